//! Suite YAML model, loading, validation with source spans, and variable resolution.

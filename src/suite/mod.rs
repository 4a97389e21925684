//! Suite YAML model, loading, validation with source spans, and variable resolution.
pub mod yaml;
pub mod diag;
pub mod value;
pub mod messages;
pub mod model;
pub mod profile;
pub mod spec;
pub mod read;
pub mod tags;
pub mod load;

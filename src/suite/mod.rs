//! Suite YAML model, loading, validation with source spans, and variable resolution.
pub mod builtin;
pub mod diag;
pub mod load;
pub mod messages;
pub mod model;
pub mod profile;
pub mod read;
pub mod read_fields;
pub mod schema;
pub mod select;
pub mod show;
pub mod spec;
pub mod steps;
pub mod tags;
pub mod value;
pub mod yaml;

//! The CLI's parts, shared by `bgone` and `bgone-bench`: a thin front over `bgone-core`.

pub mod allocator;
pub mod args;
pub mod batch;
mod error;
pub mod inputs;
pub mod model;
pub mod progress;

pub use error::CliError;

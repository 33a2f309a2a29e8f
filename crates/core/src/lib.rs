//! bgone's removal core: the ISNet network in Burn, the image pipeline around it, compositing
//! and encoding. It knows nothing of the browser or of any one Burn backend: the caller picks the
//! device (see [`engine`] for native builds), so the CLI, the web app and the tests share it.

pub mod engine;
mod error;
#[doc(hidden)]
#[cfg(not(target_family = "wasm"))]
pub mod fuzzing;
pub mod model;
pub mod pipeline;
mod remover;

pub use burn::tensor::Device;
pub use error::RemoveError;
pub use remover::Remover;

use crate::model::{LoadError, ManifestError};
use crate::pipeline::{DecodeError, EncodeError};

/// Everything that can go wrong between a file and its cutout, each with a message a user can
/// act on. The CLI prefixes it with the file name; the web app shows it on the image's card.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("The network size must be a positive multiple of 64, not {0}.")]
    InvalidSize(usize),
    #[error("The {engine} engine failed on this image ({detail}).")]
    Inference { engine: String, detail: String },
    #[error("The GPU stopped working while processing this image (device lost: {0}).")]
    DeviceLost(String),
}

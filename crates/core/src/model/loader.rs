use burn::module::Module;
use burn::store::{FloatCastAdapter, ModuleSnapshot, SafetensorsStore};
use burn::tensor::{DType, Device};

use super::Isnet;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("The model file could not be read as weights ({0}). Run `bash models/setup.sh` or download the model again.")]
    Format(String),
    #[error("The model file does not fit this version of bgone ({0}). Run `bash models/setup.sh` again.")]
    Mismatch(String),
}

/// Builds the full-size network on `device` from the bytes of the converted safetensors file.
///
/// The file stores f16 (half the download); the weights are widened to f32 on load so that every
/// engine computes in f32, as the onnxruntime reference does.
pub fn load_isnet(weights: Vec<u8>, device: &Device) -> Result<Isnet, LoadError> {
    let mut model = Isnet::new(device);
    let mut store = SafetensorsStore::from_bytes(Some(weights))
        .with_from_adapter(FloatCastAdapter::to(DType::F32))
        .allow_partial(false)
        .validate(true);
    let result = model
        .load_from(&mut store)
        .map_err(|error| LoadError::Format(error.to_string()))?;
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        return Err(LoadError::Mismatch(format!(
            "{} errors, missing {:?}, unused {:?}",
            result.errors.len(),
            result.missing.iter().take(3).collect::<Vec<_>>(),
            result.unused.iter().take(3).collect::<Vec<_>>()
        )));
    }
    // Keep the loaded weights on the device rather than re-reading the store per image.
    Ok(model.no_grad())
}

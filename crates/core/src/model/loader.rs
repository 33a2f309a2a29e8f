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
/// The file stores f16 (half the download). Every engine computes in f32, as the onnxruntime
/// reference does. The CPU engine keeps the weights in f16 and its convolutions widen each
/// layer's as they pack them (exactly: every f16 is an f32), which halves the weights' 176 MB
/// of memory; on the GPU they are widened to f32 on load.
pub fn load_isnet(weights: Vec<u8>, device: &Device) -> Result<Isnet, LoadError> {
    let mut model = Isnet::new(device);
    let dtype = if *device == Device::flex() { DType::F16 } else { DType::F32 };
    let mut store = SafetensorsStore::from_bytes(Some(weights))
        .with_from_adapter(FloatCastAdapter::to(dtype))
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

use burn::module::Module;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{FloatCastAdapter, ModuleSnapshot};
use burn::tensor::{AllocationProperty, Bytes, DType, Device};
use safetensors::SafeTensors;

use super::{Isnet, IsnetConfig};

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
pub fn load_isnet(weights: impl Into<bytes::Bytes>, device: &Device) -> Result<Isnet, LoadError> {
    load_network(IsnetConfig::default(), weights, device)
}

fn load_network(config: IsnetConfig, weights: impl Into<bytes::Bytes>, device: &Device) -> Result<Isnet, LoadError> {
    let dtype = if *device == Device::flex() { DType::F16 } else { DType::F32 };
    load_as(config.init(device), weights, dtype)
}

/// Fills `model` from the file's bytes, its float weights as `dtype`.
fn load_as(mut model: Isnet, weights: impl Into<bytes::Bytes>, dtype: DType) -> Result<Isnet, LoadError> {
    let tensors = tensors_in_place(weights.into())?;
    let result = model.apply(tensors, None, Some(Box::new(FloatCastAdapter::to(dtype))), false);
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

/// The file's tensors as windows into the file's own buffer, which they then share.
///
/// Written here rather than taken from burn-store's `SafetensorsStore`: that one parses the
/// file's header again for every tensor (228 times) and copies every tensor out of the buffer,
/// so the browser's start-up spent its "load" step (120-215 ms) on work that does nothing, and
/// the worker's memory, whose high-water mark never goes down, held the 88 MB twice. The CPU
/// engine reads the f16 weights where they lie; a tensor that is ever written to is copied
/// first (the windows are copy-on-write).
fn tensors_in_place(weights: bytes::Bytes) -> Result<Vec<PackTensor>, LoadError> {
    let base = weights.as_ptr() as usize;
    let layout = SafeTensors::deserialize(&weights)
        .map_err(|error| LoadError::Format(error.to_string()))?
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let dtype =
                burn_dtype(view.dtype()).ok_or_else(|| LoadError::Format(format!("{name}: {:?} weights", view.dtype())))?;
            let start = view.data().as_ptr() as usize - base;
            Ok((name, dtype, view.shape().to_vec(), start..start + view.data().len()))
        })
        .collect::<Result<Vec<_>, LoadError>>()?;
    // Through `bytes::Bytes`, which a Vec becomes as it is (`load_isnet`): `Bytes::from_bytes_vec`
    // would copy all 88 MB into an allocation it aligns to 16 bytes itself.
    let file = Bytes::from_shared(weights, AllocationProperty::Native);
    let tensors = layout.into_iter().map(|(name, dtype, shape, range)| {
        // A window not aligned to its element size could not be read as elements in place (the
        // files setup.sh writes have none): that tensor is copied.
        let bytes = match file.view(range.start, range.end) {
            Ok(window) if (base + range.start).is_multiple_of(dtype.size()) => window,
            _ => Bytes::from_bytes_vec(file[range].to_vec()),
        };
        PackTensor::new(name, dtype, shape, None, bytes)
    });
    Ok(tensors.collect())
}

fn burn_dtype(dtype: safetensors::Dtype) -> Option<DType> {
    use safetensors::Dtype;
    match dtype {
        Dtype::F16 => Some(DType::F16),
        Dtype::F32 => Some(DType::F32),
        Dtype::BF16 => Some(DType::BF16),
        Dtype::F64 => Some(DType::F64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, f16};

    use super::*;

    const NARROW: IsnetConfig = IsnetConfig { channel_divisor: 16 };

    /// A narrow network's weights as a safetensors file in f16, as `models/setup.sh` writes them.
    fn saved(model: &Isnet) -> (Vec<u8>, Vec<(String, Vec<f16>)>) {
        let mut tensors: Vec<(String, Vec<usize>, Vec<f16>)> = model
            .collect(None, None, false)
            .into_iter()
            .map(|tensor| {
                let data = burn::store::bridge::into_data(tensor.clone()).unwrap();
                let values = data.try_to_vec::<f32>().unwrap().into_iter().map(f16::from_f32).collect();
                (tensor.name.clone(), tensor.shape.to_vec(), values)
            })
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let bytes: Vec<Vec<u8>> = tensors.iter().map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
        let views = tensors.iter().zip(&bytes).map(|((name, shape, _), bytes)| {
            (name.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F16, shape.clone(), bytes).unwrap())
        });
        let file = safetensors::serialize(views, None).unwrap();
        (file, tensors.into_iter().map(|(name, _, values)| (name, values)).collect())
    }

    fn conv_weights(model: &Isnet) -> Vec<Tensor<4>> {
        vec![model.conv_in.weight.val(), model.stage3.rebnconvin.conv_s1.weight.val(), model.side1.weight.val()]
    }

    #[test]
    fn every_weight_loads_as_saved_and_the_cpu_engine_reads_them_in_the_files_buffer() {
        let device = Device::flex();
        let (file, expected) = saved(&NARROW.init(&device));
        let span = file.as_ptr() as usize..file.as_ptr() as usize + file.len();
        let loaded = load_network(NARROW, file, &device).unwrap();

        let mut found = loaded.collect(None, None, false);
        found.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(found.len(), expected.len());
        for (tensor, (name, values)) in found.into_iter().zip(expected) {
            assert_eq!(tensor.name, name);
            let data = burn::store::bridge::into_data(tensor).unwrap();
            assert_eq!(data.dtype(), DType::F16, "{name}");
            assert_eq!(data.try_to_vec::<f16>().unwrap(), values, "{name}");
        }
        // No copy: the weights the convolutions read lie in the file's own buffer.
        for weight in conv_weights(&loaded) {
            let flex = weight.try_into_primitive::<burn::backend::Flex>().ok().unwrap();
            let at = flex.storage::<f16>().as_ptr() as usize;
            assert!(span.contains(&at), "a weight was copied out of the file");
        }
    }

    #[test]
    fn on_other_engines_the_weights_are_widened_to_f32() {
        // The same conversion the GPU engine gets, shown on the CPU device through the cast.
        let device = Device::flex();
        let (file, expected) = saved(&NARROW.init(&device));
        let model = load_as(NARROW.init(&device), file, DType::F32).unwrap();
        let weight = model.side1.weight.val().into_data();
        assert_eq!(weight.dtype(), DType::F32);
        let side1 = &expected.iter().find(|(name, _)| name == "side1.weight").unwrap().1;
        assert_eq!(weight.try_to_vec::<f32>().unwrap(), side1.iter().map(|x| x.to_f32()).collect::<Vec<_>>());
    }

    #[test]
    fn a_damaged_or_foreign_file_is_an_error_not_a_panic() {
        let device = Device::flex();
        let (file, _) = saved(&NARROW.init(&device));
        assert!(matches!(load_network(NARROW, file[..file.len() - 1].to_vec(), &device), Err(LoadError::Format(_))));
        assert!(matches!(load_network(NARROW, b"not a model".to_vec(), &device), Err(LoadError::Format(_))));
        assert!(matches!(load_network(NARROW, Vec::new(), &device), Err(LoadError::Format(_))));
        // A valid file of another network's shapes.
        let (other, _) = saved(&IsnetConfig { channel_divisor: 32 }.init(&device));
        assert!(matches!(load_network(NARROW, other, &device), Err(LoadError::Mismatch(_))));
    }
}

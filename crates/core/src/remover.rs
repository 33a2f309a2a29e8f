use burn::tensor::{Device, Tensor, TensorData};
use image::DynamicImage;

use crate::RemoveError;
use crate::model::{Isnet, IsnetConfig, ModelManifest, Normalization, VerifiedWeights, load_isnet};
use crate::pipeline::{Mask, network_input};

/// A loaded network on one device, ready to compute masks. It stays resident between images.
#[derive(Debug)]
pub struct Remover {
    model: Isnet,
    device: Device,
    size: usize,
    normalization: Normalization,
}

impl Remover {
    /// Verifies `weights` against the manifest, then loads them on `device`. `size` is the side
    /// the network runs at: the manifest's `input_size` unless a caller trades detail for speed.
    pub fn load(manifest: &ModelManifest, weights: Vec<u8>, device: Device, size: Option<usize>) -> Result<Self, RemoveError> {
        Self::load_verified(manifest, manifest.verified(weights)?, device, size)
    }

    /// As `load`, for weights already checked against this manifest.
    pub fn load_verified(
        manifest: &ModelManifest,
        weights: VerifiedWeights,
        device: Device,
        size: Option<usize>,
    ) -> Result<Self, RemoveError> {
        // Checked against another manifest: check again against this one.
        let weights = if weights.matches(manifest) { weights } else { manifest.verified(weights.as_bytes().to_vec())? };
        let model = load_isnet(weights.into_shared(), &device)?;
        Self::from_model(model, device, manifest.normalization.clone(), size.unwrap_or(manifest.input_size))
    }

    /// A remover around an already built network (tests use narrow random ones).
    pub fn from_model(model: Isnet, device: Device, normalization: Normalization, size: usize) -> Result<Self, RemoveError> {
        if size == 0 || !size.is_multiple_of(64) {
            return Err(RemoveError::InvalidSize(size));
        }
        Ok(Self { model, device, size, normalization })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The network input for `photo`, as laid out by [`network_input`].
    pub fn input_for(&self, photo: &DynamicImage) -> Vec<f32> {
        network_input(photo, self.size, &self.normalization)
    }

    /// Queues the network on `input` ([1, 3, size, size]); read the result back with
    /// [`Self::read_mask`] (native) or [`Self::read_mask_async`] (browser).
    pub fn predict(&self, input: Vec<f32>) -> Tensor<4> {
        let data = TensorData::new(input, [1, 3, self.size, self.size]);
        self.model.forward(Tensor::from_data(data, &self.device))
    }

    /// Native, or the browser's threaded CPU engine (which has no WebGPU, so nothing to wait for).
    #[cfg(any(not(target_family = "wasm"), feature = "threads"))]
    pub fn read_mask(&self, prediction: Tensor<4>) -> Result<Mask, RemoveError> {
        let data = prediction.try_into_data().map_err(|error| self.inference_error(error))?;
        self.mask_from(data)
    }

    pub async fn read_mask_async(&self, prediction: Tensor<4>) -> Result<Mask, RemoveError> {
        let data = prediction.into_data_async().await.map_err(|error| self.inference_error(error))?;
        self.mask_from(data)
    }

    /// A tiny pass (64x64) of a full-width ISNet with random weights, which proves `device` can
    /// run the network at all, without waiting for a full-size pass or for the real weights: the
    /// browser runs it, while the weights are downloaded or read, before it trusts a WebGPU adapter
    /// it has not seen pass. Its kernels are the real network's, so the device has them compiled
    /// for the photos after it; its weights are dropped when it ends.
    pub async fn test_device(device: &Device) -> Result<(), RemoveError> {
        small_pass(&IsnetConfig::default().init(device), device).await
    }

    /// The same tiny pass on this network: on a GPU, the first use of every kernel, so their
    /// compiling is done before a photo needs them (the browser runs it while it waits for the
    /// first photo, where the GPU's test pass did not run at this start).
    pub async fn warm_up(&self) -> Result<(), RemoveError> {
        small_pass(&self.model, &self.device).await
    }

    /// Photo in, mask at network size out (native: blocks until the device is done). In the
    /// browser only on the threaded CPU engine, which runs it on its pool.
    #[cfg(any(not(target_family = "wasm"), feature = "threads"))]
    pub fn mask(&self, photo: &DynamicImage) -> Result<Mask, RemoveError> {
        self.read_mask(self.predict(self.input_for(photo)))
    }

    pub async fn mask_async(&self, photo: &DynamicImage) -> Result<Mask, RemoveError> {
        self.read_mask_async(self.predict(self.input_for(photo))).await
    }

    fn mask_from(&self, data: TensorData) -> Result<Mask, RemoveError> {
        let values = usable_values(data, self.size).map_err(|detail| self.inference_error(detail))?;
        Mask::new(self.size, values).ok_or_else(|| self.inference_error("the mask has the wrong size"))
    }

    fn inference_error(&self, detail: impl std::fmt::Display) -> RemoveError {
        inference_error(&self.device, detail)
    }
}

fn inference_error(device: &Device, detail: impl std::fmt::Display) -> RemoveError {
    let detail = detail.to_string();
    let cause = root_cause(&detail);
    // cubecl marks a device "poisoned" once wgpu reports it lost (driver reset, GPU process
    // crash); every later call on it fails the same way, so callers switch engines for good.
    if detail.contains("poisoned") {
        return RemoveError::DeviceLost(cause);
    }
    RemoveError::Inference { engine: engine_label(device).to_owned(), detail: cause }
}

/// A 64x64 pass of `model` on zeros, whose output must be a usable mask.
async fn small_pass(model: &Isnet, device: &Device) -> Result<(), RemoveError> {
    const SIDE: usize = 64;
    let data = TensorData::new(vec![0.0f32; 3 * SIDE * SIDE], [1, 3, SIDE, SIDE]);
    let output = model.forward(Tensor::from_data(data, device));
    let data = output.into_data_async().await.map_err(|error| inference_error(device, error))?;
    usable_values(data, SIDE).map(drop).map_err(|detail| inference_error(device, detail))
}

/// The network's output as `side` x `side` values, if they are all numbers. A device that
/// computes wrongly (a driver's bug, a shader the adapter miscompiles) shows as values that are
/// not numbers; taken as a mask they would make a garbage cutout, so they are an error, and the
/// browser then finishes the image on the CPU. Checking a 1024 mask takes about a millisecond.
fn usable_values(data: TensorData, side: usize) -> Result<Vec<f32>, String> {
    let values = data.try_into_vec::<f32>().map_err(|error| format!("{error:?}"))?;
    if values.len() != side * side {
        return Err("the mask has the wrong size".into());
    }
    if !values.iter().all(|value| value.is_finite()) {
        return Err("the network gave values that are not numbers".into());
    }
    Ok(values)
}

/// "GPU" or "CPU" for messages. Burn's device enum has feature-gated variants, so its Debug name
/// is what stays stable across our feature sets ("Device<Cube(Wgpu(…))>", "Device<Flex(…)>").
fn engine_label(device: &Device) -> &'static str {
    let name = format!("{device:?}");
    if name.contains("Cube") || name.contains("Wgpu") { "GPU" } else { "CPU" }
}

/// Burn's errors chain every layer ("… Caused by: …") and end with a backtrace; a user needs the
/// innermost cause only.
fn root_cause(detail: &str) -> String {
    let body = detail.split("Backtrace:").next().unwrap_or(detail);
    body.lines().map(str::trim).rfind(|line| !line.is_empty() && *line != "Caused by:").unwrap_or("unknown error").to_owned()
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::{root_cause, usable_values};

    #[test]
    fn a_network_output_with_values_that_are_not_numbers_is_refused() {
        let output = |values: Vec<f32>| TensorData::new(values, [1, 1, 2, 2]);
        assert_eq!(usable_values(output(vec![0.0, 0.25, 0.5, 1.0]), 2), Ok(vec![0.0, 0.25, 0.5, 1.0]));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(
                usable_values(output(vec![0.0, bad, 0.5, 1.0]), 2),
                Err("the network gave values that are not numbers".into())
            );
        }
        assert_eq!(usable_values(output(vec![0.0; 4]), 3), Err("the mask has the wrong size".into()));
    }

    #[test]
    fn only_the_innermost_cause_is_kept() {
        let detail = "The device is poisoned\nCaused by:\n  The device is poisoned\nCaused by:\n  Unknown: A valid external Instance reference no longer exists.\nBacktrace:\nNo backtrace available";
        assert_eq!(root_cause(detail), "Unknown: A valid external Instance reference no longer exists.");
        assert_eq!(root_cause("out of memory"), "out of memory");
    }
}

//! Which Burn device runs the network. The browser picks its own (WebGPU is initialised
//! asynchronously there); this module is for native builds.

use burn::tensor::Device;

/// The engines bgone can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Burn's `flex` backend: tiled im2col over the `gemm` crate, SIMD, multithreaded natively.
    Cpu,
    /// Burn's `wgpu` backend: Vulkan, Metal or DX12 natively, WebGPU in the browser.
    #[cfg(feature = "wgpu")]
    Gpu,
    /// Burn's deprecated `ndarray` backend, only for comparison in the benchmark.
    #[cfg(feature = "ndarray")]
    NdArray,
}

impl Engine {
    pub fn label(self) -> &'static str {
        match self {
            Self::Cpu => "cpu (flex)",
            #[cfg(feature = "wgpu")]
            Self::Gpu => "gpu (wgpu)",
            #[cfg(feature = "ndarray")]
            Self::NdArray => "cpu (ndarray)",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("No GPU is available ({0}). Use the CPU engine instead.")]
pub struct NoGpu(pub String);

/// What a native run found when asked to pick by itself.
#[derive(Debug)]
pub struct Choice {
    pub engine: Engine,
    pub device: Device,
    /// Why the choice fell where it did, for the user.
    pub reason: String,
}

/// GPU when a hardware adapter exists; otherwise the CPU. A software rasterizer (llvmpipe,
/// lavapipe, SwiftShader) counts as no GPU: on the same cores `flex` is faster.
#[cfg(not(target_family = "wasm"))]
pub fn auto() -> Choice {
    #[cfg(feature = "wgpu")]
    match open(Engine::Gpu) {
        Ok(device) => {
            let identity = device.identity();
            let name = identity.as_ref().map_or_else(|| "unknown adapter".to_owned(), |id| id.name.clone());
            if identity.is_some_and(|id| id.physical.is_some()) {
                return Choice { engine: Engine::Gpu, device, reason: format!("GPU found: {name}") };
            }
            return Choice {
                engine: Engine::Cpu,
                device: Device::flex(),
                reason: format!("only a software GPU ({name}) was found; the CPU engine is faster"),
            };
        }
        Err(error) => {
            return Choice { engine: Engine::Cpu, device: Device::flex(), reason: error.0 };
        }
    }
    #[allow(unreachable_code)]
    Choice { engine: Engine::Cpu, device: Device::flex(), reason: "built without GPU support".into() }
}

/// Opens the device for `engine`. For the GPU this asks wgpu for an adapter now, so a missing
/// GPU is an error here rather than a panic on the first image.
#[cfg(not(target_family = "wasm"))]
pub fn open(engine: Engine) -> Result<Device, NoGpu> {
    match engine {
        Engine::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        Engine::Gpu => Device::wgpu_options().init().map_err(|error| NoGpu(error.to_string())),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        Engine::NdArray => Ok(Device::ndarray()),
    }
}

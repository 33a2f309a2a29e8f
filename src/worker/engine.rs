//! Picking the engine in the browser: WebGPU when an adapter exists and a tiny test pass
//! succeeds, else the CPU (flex in WebAssembly).

use bgone_core::model::ModelManifest;
use bgone_core::{Device, RemoveError, Remover};
use bgone_web::protocol::{EngineKind, EnginePreference};
use js_sys::Reflect;
use wasm_bindgen::JsValue;

pub struct Opened {
    pub remover: Remover,
    pub kind: EngineKind,
    /// Why the page got less than it asked for, if it did.
    pub note: Option<String>,
}

fn has_webgpu() -> bool {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
    Reflect::get(&navigator, &"gpu".into()).is_ok_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

async fn open_webgpu(manifest: &ModelManifest, weights: Vec<u8>, size: Option<usize>) -> Result<Remover, String> {
    if !has_webgpu() {
        return Err("this browser has no WebGPU".into());
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|error| format!("no WebGPU adapter: {error}"))?;
    let remover = Remover::load(manifest, weights, device, size).map_err(|error| error.to_string())?;
    remover.self_test().await.map_err(|error| format!("WebGPU failed its test pass: {error}"))?;
    Ok(remover)
}

pub fn open_cpu(manifest: &ModelManifest, weights: Vec<u8>, size: Option<usize>) -> Result<Remover, RemoveError> {
    Remover::load(manifest, weights, Device::flex(), size)
}

pub async fn open(
    preference: EnginePreference,
    manifest: &ModelManifest,
    weights: &[u8],
    size: Option<usize>,
) -> Result<Opened, RemoveError> {
    let mut note = None;
    if preference != EnginePreference::Cpu {
        match open_webgpu(manifest, weights.to_vec(), size).await {
            Ok(remover) => return Ok(Opened { remover, kind: EngineKind::Webgpu, note: None }),
            Err(reason) => note = Some(format!("Using the CPU: {reason}.")),
        }
    }
    let remover = open_cpu(manifest, weights.to_vec(), size)?;
    Ok(Opened { remover, kind: EngineKind::Cpu, note })
}

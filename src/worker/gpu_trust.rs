//! Whether the WebGPU engine can skip its test pass: it runs once per GPU, and a later start on
//! a GPU that passed goes straight to the first photo (`offline::gpu_passes` keeps the record).
//! A pass that fails on that GPU, or gives a mask of values that are not numbers, is finished on
//! the CPU and takes the record away (`runtime`), so the next start tests the GPU again.
//! (Compiled in the threaded CPU worker too, which has no WebGPU and uses none of it.)
#![cfg_attr(not(feature = "webgpu"), allow(dead_code))]

use bgone_core::model::ModelManifest;
use bgone_web::browser::gpu_adapter;
use bgone_web::offline::gpu_passes;
use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// What the lookup found: the GPU's key, whether it passed before, and whether the adapter is a
/// software one (`gpu_adapter::is_fallback`).
pub struct Lookup {
    pub key: Option<String>,
    pub passed: bool,
    pub software: bool,
}

/// Starts looking this GPU up (its key, then its record) without waiting, so that the lookup
/// runs while the device starts and the weights go up to it; await the answer when the test pass
/// is due. A lookup that cannot finish answers "not passed".
pub fn look_up(manifest: &ModelManifest) -> impl Future<Output = Lookup> {
    let manifest = manifest.clone();
    let lookup = crate::beside::begin(async move {
        let adapter = gpu_adapter::request().await;
        let software = adapter.as_ref().is_some_and(gpu_adapter::is_fallback);
        let key = match adapter {
            Some(adapter) => key(&adapter, &manifest),
            None => None,
        };
        let passed = match key.as_deref() {
            Some(key) => gpu_passes::has_passed(key).await,
            None => false,
        };
        Lookup { key, passed, software }
    });
    async move { lookup.await.unwrap_or(Lookup { key: None, passed: false, software: false }) }
}

/// The record's key for `adapter`, this browser's default WebGPU adapter (what Burn's device asks
/// for), and this version of the app and its model; `None` where the browser does not describe it.
fn key(adapter: &JsValue, manifest: &ModelManifest) -> Option<String> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let info = gpu_adapter::info(adapter)?;
    let field = |name: &str| Reflect::get(&info, &name.into()).ok().and_then(|value| value.as_string()).unwrap_or_default();
    let adapter = ["vendor", "architecture", "device", "description"].map(field);
    let user_agent = Reflect::get(&navigator, &"userAgent".into()).ok().and_then(|value| value.as_string()).unwrap_or_default();
    let engine = format!("bgone {} {} {}", env!("CARGO_PKG_VERSION"), manifest.id, manifest.xxh3);
    Some(gpu_passes::key(&adapter, &user_agent, &engine))
}

/// Records that the GPU under `key` passed (awaited: it runs beside the weights' read, and a
/// page told the engine is ready finds the record there).
pub async fn remember(key: Option<&str>) {
    let Some(key) = key else { return };
    if let Err(error) = gpu_passes::record(key).await {
        web_sys::console::warn_1(&format!("bgone worker: could not note that this GPU passed ({error})").into());
    }
}

/// Takes the record of the GPU under `key` away: it failed on an image. Awaited before the image
/// goes on, so the write is done before the page hears of the result: left to run beside the CPU's
/// pass, it could not start until that pass ended (the pass holds the worker's thread), and the
/// page, told the result and that the GPU was lost, ends this worker for the threaded CPU one
/// (`gpu_fallback`), sometimes before the write (a CI run's fault test found the record kept).
pub async fn forget(key: Option<&str>) {
    let Some(key) = key else { return };
    if let Err(error) = gpu_passes::forget(key).await {
        web_sys::console::warn_1(&format!("bgone worker: could not take back the note that this GPU passed ({error})").into());
    }
}

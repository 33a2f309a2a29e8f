//! What the browser's WebGPU offers, asked the way Burn's device asks (`requestAdapter` with no
//! options), from the page or a worker: no adapter, a fallback one, or a real GPU. A fallback
//! adapter (`GPUAdapterInfo.isFallbackAdapter`: a software implementation such as SwiftShader)
//! runs ISNet far slower than the CPU engine: at 256 a warm cutout took 13.6 s on SwiftShader,
//! against 1.7 s for the threaded CPU engine at 1024, on the same 2 cores. So automatic mode
//! takes the CPU there.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// No WebGPU, or no adapter.
    None,
    /// A software adapter.
    Fallback,
    /// A GPU.
    Hardware,
}

/// What automatic mode tells the user when it takes the CPU because of `offer`.
pub fn cpu_reason(offer: Offer) -> Option<&'static str> {
    match offer {
        Offer::None => Some("this browser offers no WebGPU adapter"),
        Offer::Fallback => Some("this browser's only WebGPU adapter is a software one, far slower than the CPU engine"),
        Offer::Hardware => None,
    }
}

/// The engine's note when the CPU runs instead of the GPU, for `reason` (the page's, from
/// [`cpu_reason`], or the main worker's, when its GPU did not start).
pub fn cpu_note(reason: &str) -> String {
    format!("Using the CPU: {reason}.")
}

/// The browser's default adapter, or `None` where there is no WebGPU or no adapter.
pub async fn request() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let gpu = Reflect::get(&navigator, &"gpu".into()).ok().filter(|gpu| !gpu.is_undefined() && !gpu.is_null())?;
    let request = Reflect::get(&gpu, &"requestAdapter".into()).ok()?.dyn_into::<Function>().ok()?;
    let adapter = JsFuture::from(request.call0(&gpu).ok()?.dyn_into::<Promise>().ok()?).await.ok()?;
    (!adapter.is_null() && !adapter.is_undefined()).then_some(adapter)
}

/// The adapter's `GPUAdapterInfo`, if the browser gives one.
pub fn info(adapter: &JsValue) -> Option<JsValue> {
    Reflect::get(adapter, &"info".into()).ok().filter(JsValue::is_object)
}

/// Whether `adapter` is a fallback (software) adapter: `info.isFallbackAdapter`, or the
/// adapter's own `isFallbackAdapter` where a browser has the older place for it.
pub fn is_fallback(adapter: &JsValue) -> bool {
    let flag = |object: &JsValue| Reflect::get(object, &"isFallbackAdapter".into()).is_ok_and(|value| value.is_truthy());
    info(adapter).is_some_and(|info| flag(&info)) || flag(adapter)
}

pub fn offer_of(adapter: Option<&JsValue>) -> Offer {
    match adapter {
        None => Offer::None,
        Some(adapter) if is_fallback(adapter) => Offer::Fallback,
        Some(_) => Offer::Hardware,
    }
}

pub async fn offer() -> Offer {
    offer_of(request().await.as_ref())
}

//! Picking the engine in the browser: WebGPU when an adapter exists and a tiny test pass
//! succeeds, else the CPU (flex in WebAssembly).
//!
//! Two builds of this worker exist. The main one (feature `webgpu`) has both engines and runs the
//! CPU one on a single thread. The threaded CPU worker (feature `threads`, no WebGPU, because wgpu
//! cannot be built with WebAssembly threads) runs flex on a rayon pool, one thread per core; the
//! page starts it when there is no GPU and the page is cross-origin isolated.

use std::sync::Arc;

use bgone_core::model::{ModelManifest, VerifiedWeights};
use bgone_core::pipeline::Mask;
use bgone_core::{Device, RemoveError, Remover};
#[cfg(feature = "webgpu")]
use bgone_web::browser::gpu_adapter;
use bgone_web::protocol::{EngineKind, EnginePreference};
use image::DynamicImage;
#[cfg(feature = "webgpu")]
use js_sys::Reflect;
#[cfg(feature = "threads")]
use wasm_bindgen::JsCast;
#[cfg(feature = "webgpu")]
use wasm_bindgen::JsValue;

pub struct Opened {
    pub remover: Remover,
    pub kind: EngineKind,
    /// Threads the network runs on.
    pub threads: u32,
    /// Why the page got less than it asked for, if it did.
    pub note: Option<String>,
    /// On WebGPU, the weights, kept so an image the GPU fails on can be finished on the CPU.
    pub weights: Option<VerifiedWeights>,
    /// On WebGPU, the GPU's key in the record of GPUs that passed (taken away if it fails).
    pub gpu_key: Option<String>,
    /// On WebGPU, whether the test pass was skipped (this GPU passed before): its kernels are not
    /// compiled yet, and a warm-up while the worker waits for a photo does it (`runtime`).
    pub warm_up: bool,
}

#[cfg(feature = "webgpu")]
fn has_webgpu() -> bool {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
    Reflect::get(&navigator, &"gpu".into()).is_ok_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// What starting the WebGPU device found out about its GPU.
struct GpuFacts {
    /// The GPU's key in the record of GPUs that passed.
    key: Option<String>,
    /// Whether the test pass was skipped (see [`Opened::warm_up`]).
    warm_up: bool,
    /// Whether the adapter is a software one (`gpu_adapter::is_fallback`), used because WebGPU
    /// was chosen: the user is told it is slower than the CPU.
    software: bool,
}

/// The WebGPU device, started and tested (`gpu_trust`: once per GPU) while the weights are read
/// or downloaded; or why not.
type GpuReady = Result<(Device, GpuFacts), String>;

/// The WebGPU device's start and test, begun by [`begin_webgpu`] and awaited by [`open`].
pub struct EarlyGpu(std::pin::Pin<Box<dyn Future<Output = Option<GpuReady>>>>);

/// Begins starting and testing the WebGPU device without waiting, unless the CPU was asked for
/// or this build has no WebGPU: the runtime calls this before it reads the weights, so that on a
/// first visit the test pass (its kernels' compiling, 4.1-4.7 s on SwiftShader) runs while the
/// 88 MB come down, not after. It needs no weights: it tests a network of the real shapes with
/// random ones (`Remover::test_device`), whose kernels the real network then finds compiled.
pub fn begin_webgpu(preference: EnginePreference, manifest: &ModelManifest) -> Option<EarlyGpu> {
    if preference == EnginePreference::Cpu || cfg!(not(feature = "webgpu")) {
        return None;
    }
    let manifest = manifest.clone();
    Some(EarlyGpu(Box::pin(crate::beside::begin(async move { start_webgpu(preference, &manifest).await }))))
}

/// The device, and its test pass unless this GPU passed before. Its steps are timed on their own
/// (`startup_steps::beside`): they run beside the weights' read.
#[cfg(feature = "webgpu")]
async fn start_webgpu(preference: EnginePreference, manifest: &ModelManifest) -> GpuReady {
    use bgone_web::offline::request_log::now_ms;
    if !has_webgpu() {
        return Err("this browser has no WebGPU".into());
    }
    let lookup = crate::gpu_trust::look_up(manifest);
    let started = now_ms();
    let device = Device::wgpu_options().init_async().await.map_err(|error| {
        // The details are for whoever looks into it; the user is told what it means.
        web_sys::console::warn_1(&format!("bgone worker: WebGPU did not start: {error}").into());
        "this browser offers no WebGPU adapter".to_string()
    })?;
    crate::startup_steps::beside("device", now_ms() - started);
    let found = lookup.await;
    // Automatic mode leaves a software adapter to the CPU engine, as the page does where it can
    // start the threaded CPU worker (`worker_client::choose`); chosen, it is used.
    if found.software && preference == EnginePreference::Auto {
        return Err(gpu_adapter::cpu_reason(gpu_adapter::Offer::Fallback).unwrap_or_default().into());
    }
    let (key, software) = (found.key, found.software);
    if found.passed {
        crate::startup_steps::beside("test pass skipped (this GPU passed before)", 0.0);
        return Ok((device, GpuFacts { key, warm_up: true, software }));
    }
    let started = now_ms();
    Remover::test_device(&device).await.map_err(|error| format!("WebGPU failed its test pass: {error}"))?;
    crate::startup_steps::beside("test pass", now_ms() - started);
    crate::gpu_trust::remember(key.as_deref()).await;
    Ok((device, GpuFacts { key, warm_up: false, software }))
}

/// The threaded CPU worker has no WebGPU; it never tries (see [`open`]).
#[cfg(not(feature = "webgpu"))]
async fn start_webgpu(_: EnginePreference, _: &ModelManifest) -> GpuReady {
    Err("this copy of the engine has no WebGPU".into())
}

/// What the user is told when WebGPU runs on a software adapter because it was chosen.
const SOFTWARE_GPU_NOTE: &str =
    "This browser's WebGPU adapter is a software one, far slower than the CPU engine: choose CPU for faster cutouts.";

/// The WebGPU engine on the device [`begin_webgpu`] started and tested, with the real weights;
/// and its GPU's key. Photos' masks are still checked (see `Remover::mask_async`).
async fn open_webgpu(
    preference: EnginePreference,
    manifest: &ModelManifest,
    weights: VerifiedWeights,
    size: Option<usize>,
    early: Option<EarlyGpu>,
) -> Result<(Remover, GpuFacts), String> {
    let ready = match early {
        Some(EarlyGpu(started)) => started.await.unwrap_or_else(|| Err("the GPU's start was interrupted".into())),
        None => start_webgpu(preference, manifest).await,
    };
    let (device, facts) = ready?;
    crate::startup_steps::step("gpu ready");
    let remover = Remover::load_verified(manifest, weights, device, size).map_err(|error| error.to_string())?;
    crate::startup_steps::step("load");
    Ok((remover, facts))
}

#[cfg(feature = "threads")]
thread_local! {
    /// The pool's size and the promise of its start, once started.
    static POOL: std::cell::RefCell<Option<(usize, js_sys::Promise)>> = const { std::cell::RefCell::new(None) };
    /// Whether the pool has started (passes then run on it, see [`mask`]).
    static POOL_RUNNING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Starts the pool of Web Workers that flex's rayon runs on (once per worker), one thread per
/// core the browser reports, without waiting for it: the runtime calls this first, so the
/// threads load while the weights are read and checked. Without the pool rayon would try to
/// spawn threads and fail.
#[cfg(feature = "threads")]
pub fn begin_threads() -> (usize, js_sys::Promise) {
    POOL.with(|pool| {
        pool.borrow_mut()
            .get_or_insert_with(|| {
                let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
                let threads = (scope.navigator().hardware_concurrency() as usize).clamp(1, 8);
                (threads, wasm_bindgen_rayon::init_thread_pool(threads))
            })
            .clone()
    })
}

/// Waits for the pool [`begin_threads`] started (starting it if nothing did).
#[cfg(feature = "threads")]
pub async fn start_threads() -> Result<usize, String> {
    let (threads, started) = begin_threads();
    wasm_bindgen_futures::JsFuture::from(started)
        .await
        .map_err(|error| format!("the CPU threads could not start ({error:?})"))?;
    POOL_RUNNING.with(|running| running.set(true));
    Ok(threads)
}

/// The network's pass on `photo`. The threaded CPU worker hands the whole pass to its pool and
/// waits for it without blocking: rayon keeps a thread from outside its pool blocked until the
/// work it gave is done, so with the pass driven from here this worker's own thread ran none of
/// its events for the whole pass, nor between the passes of queued photos. Now they run
/// meanwhile: a first visit's offline copy of the model is stored and reported while the photos
/// are processed (before, after the last photo of a first batch; a page closed before then had
/// no copy), and the Offline panel's requests are answered.
#[cfg(feature = "threads")]
pub async fn mask(remover: &Arc<Remover>, photo: &Arc<DynamicImage>) -> Result<Mask, RemoveError> {
    if !POOL_RUNNING.with(std::cell::Cell::get) {
        return remover.mask(photo);
    }
    let (done, result) = futures_channel::oneshot::channel();
    let (remover, photo) = (Arc::clone(remover), Arc::clone(photo));
    rayon::spawn(move || {
        let _ = done.send(remover.mask(&photo));
    });
    // A trap in the pool (most likely out of memory) never sends: this waits, and the page hears
    // of the trap as the worker's crash and ends the worker (scripts/build-cpu-worker.sh). A
    // sender dropped unsent would take a panic that unwinds, which this build does not have.
    result
        .await
        .unwrap_or_else(|_| Err(RemoveError::Inference { engine: "CPU".into(), detail: "a thread of the engine stopped".into() }))
}

/// The network's pass on `photo` (on WebGPU, waiting for the GPU without blocking; the
/// one-thread CPU engine runs it on this thread).
#[cfg(not(feature = "threads"))]
pub async fn mask(remover: &Arc<Remover>, photo: &Arc<DynamicImage>) -> Result<Mask, RemoveError> {
    remover.mask_async(photo).await
}

pub fn open_cpu(manifest: &ModelManifest, weights: VerifiedWeights, size: Option<usize>) -> Result<Remover, RemoveError> {
    Remover::load_verified(manifest, weights, Device::flex(), size)
}

pub async fn open(
    preference: EnginePreference,
    manifest: &ModelManifest,
    weights: VerifiedWeights,
    size: Option<usize>,
    early_gpu: Option<EarlyGpu>,
) -> Result<Opened, RemoveError> {
    let mut note = None;
    // The threaded CPU worker, which has no WebGPU, is started in automatic mode only where the
    // page found no GPU to use, and the page says why (`worker_client`).
    if preference != EnginePreference::Cpu && cfg!(feature = "webgpu") {
        match open_webgpu(preference, manifest, weights.clone(), size, early_gpu).await {
            Ok((remover, facts)) => {
                let note = facts.software.then(|| SOFTWARE_GPU_NOTE.to_string());
                let (weights, gpu_key, warm_up) = (Some(weights), facts.key, facts.warm_up);
                return Ok(Opened { remover, kind: EngineKind::Webgpu, threads: 1, note, weights, gpu_key, warm_up });
            }
            Err(reason) => note = Some(bgone_web::browser::gpu_adapter::cpu_note(&reason)),
        }
    }
    #[cfg(not(feature = "threads"))]
    let threads = 1;
    #[cfg(feature = "threads")]
    let threads = match start_threads().await {
        Ok(threads) => threads as u32,
        Err(reason) => {
            note = Some(format!("Using one CPU thread: {reason}."));
            1
        }
    };
    crate::startup_steps::step("threads");
    // The weights move into the engine: no second 88 MB copy in the worker's memory, whose
    // high-water mark never goes down again.
    let remover = open_cpu(manifest, weights, size)?;
    crate::startup_steps::step("load");
    // No test pass before the first photo (there was one, 64x64, to have the browser optimise the
    // hot code first): it took 130-250 ms of every start, and without it the first photo's pass
    // measured no slower than the next ones (the convolutions' inner loops are hot within the
    // first layer).
    Ok(Opened { remover, kind: EngineKind::Cpu, threads, note, weights: None, gpu_key: None, warm_up: false })
}

//! The worker's message loop: one model, one queue, one image at a time.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use bgone_core::model::{ModelManifest, VerifiedWeights};
use bgone_core::pipeline::{Background, DecodeLimits, Mask, OutputFormat, decode, render};
use bgone_core::{RemoveError, Remover};
use bgone_web::offline::request_log::{self, RequestLog};
use bgone_web::protocol::{EngineKind, FromWorker, ToWorker};
use image::DynamicImage;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

#[cfg(not(feature = "threads"))]
use crate::store_in_flight;
use crate::{engine, model_fetch, model_source, startup_steps};

/// How long the one-thread CPU engine lets a first visit's offline copy finish storing before its
/// first pass, at most.
#[cfg(not(feature = "threads"))]
const STORE_WAIT_LIMIT_MS: i32 = 3000;

struct State {
    engine: Option<Engine>,
    manifest: Option<ModelManifest>,
    queue: VecDeque<(u32, String, Vec<u8>)>,
    busy: bool,
    /// This worker's own requests, for the privacy count.
    requests: RequestLog,
}

struct Engine {
    /// Shared with the pool's thread that runs a pass (see [`engine::mask`]).
    remover: Arc<Remover>,
    kind: EngineKind,
    /// Kept while on WebGPU, so an image the GPU fails on can be finished on the CPU.
    fallback: Option<(ModelManifest, VerifiedWeights, Option<usize>)>,
    cpu: Option<Remover>,
    /// On WebGPU, the GPU's key in the record of GPUs that passed (see `gpu_trust`).
    gpu_key: Option<String>,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn send(message: &FromWorker) {
    match serde_wasm_bindgen::to_value(message) {
        Ok(value) => {
            let _ = scope().post_message(&value);
        }
        Err(error) => web_sys::console::error_1(&format!("bgone worker: {error}").into()),
    }
}

pub fn start() {
    let state = Rc::new(RefCell::new(State {
        engine: None,
        manifest: None,
        queue: VecDeque::new(),
        busy: false,
        requests: RequestLog::start(),
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<ToWorker>(event.data()) {
            Ok(ToWorker::Init { engine, size }) => {
                wasm_bindgen_futures::spawn_local(init(state.clone(), engine, size));
            }
            Ok(ToWorker::CheckModel { online }) => {
                wasm_bindgen_futures::spawn_local(manage_model(state.clone(), ModelAction::Check { online }));
            }
            Ok(ToWorker::DeleteModel) => wasm_bindgen_futures::spawn_local(manage_model(state.clone(), ModelAction::Delete)),
            Ok(ToWorker::DownloadModel) => {
                wasm_bindgen_futures::spawn_local(manage_model(state.clone(), ModelAction::Download));
            }
            Ok(ToWorker::Process { id, name, bytes }) => {
                state.borrow_mut().queue.push_back((id, name, bytes));
                wasm_bindgen_futures::spawn_local(drain(state.clone()));
            }
            Err(error) => web_sys::console::error_1(&format!("bgone worker: bad message: {error}").into()),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    send(&FromWorker::Listening);
}

async fn init(state: Rc<RefCell<State>>, preference: bgone_web::protocol::EnginePreference, size: Option<usize>) {
    // The threaded CPU worker's threads start loading now, while the weights are read.
    #[cfg(feature = "threads")]
    let _ = engine::begin_threads();
    let loaded = async {
        let started = request_log::now_ms();
        startup_steps::begin();
        let manifest = model_fetch::manifest().await?;
        startup_steps::step("manifest");
        state.borrow_mut().manifest = Some(manifest.clone());
        // The GPU starts and is tested while the weights come.
        let early_gpu = engine::begin_webgpu(preference, &manifest);
        let weights = model_source::weights(&manifest, &send).await?;
        let fetched = request_log::now_ms();
        let mut opened =
            engine::open(preference, &manifest, weights, size, early_gpu).await.map_err(|error| error.to_string())?;
        // Start-up time, for whoever looks into a slow start (the console of the page).
        web_sys::console::info_1(
            &format!(
                "bgone worker: model ready in {:.0} ms (weights {:.0} ms, engine {:.0} ms; memory {:.0} MiB; {})",
                request_log::now_ms() - started,
                fetched - started,
                request_log::now_ms() - fetched,
                memory_mib(),
                startup_steps::summary()
            )
            .into(),
        );
        let fallback = opened.weights.take().map(|weights| (manifest, weights, size));
        Ok::<_, String>((opened, fallback))
    };
    match loaded.await {
        Ok((opened, fallback)) => {
            let engine::Opened { remover, kind, threads, note, gpu_key, warm_up, .. } = opened;
            send(&FromWorker::Ready { engine: kind, threads, note });
            let remover = Arc::new(remover);
            if warm_up && state.borrow().queue.is_empty() {
                wasm_bindgen_futures::spawn_local(warm_up_gpu(Arc::clone(&remover), gpu_key.clone()));
            }
            state.borrow_mut().engine = Some(Engine { remover, kind, fallback, cpu: None, gpu_key });
            drain(state).await;
        }
        Err(message) => send(&FromWorker::InitFailed { message }),
    }
}

/// A GPU that passed before starts without the test pass, so no kernel of the network is
/// compiled yet: while no photo has come, a 64x64 pass compiles them, so that a photo given a
/// few seconds after the page opened (what a user does) finds most of them compiled. A photo that
/// comes during it is queued on the GPU behind it; one that came before it left no time for it,
/// and then it does not run. A failure here is the GPU's: it is tested again at the next start.
async fn warm_up_gpu(remover: Arc<Remover>, gpu_key: Option<String>) {
    let started = request_log::now_ms();
    match remover.warm_up().await {
        Ok(()) => web_sys::console::info_1(
            &format!("bgone worker: GPU warmed up in {:.0} ms (its kernels compiled)", request_log::now_ms() - started).into(),
        ),
        Err(error) => {
            web_sys::console::warn_1(&format!("bgone worker: the GPU's warm-up failed: {error}").into());
            crate::gpu_trust::forget(gpu_key.as_deref()).await;
        }
    }
}

impl From<model_fetch::FetchError> for String {
    fn from(error: model_fetch::FetchError) -> Self {
        error.to_string()
    }
}

enum ModelAction {
    Check { online: bool },
    Delete,
    Download,
}

/// The offline panel's actions on the stored model.
async fn manage_model(state: Rc<RefCell<State>>, action: ModelAction) {
    let known = state.borrow().manifest.clone();
    let manifest = match known {
        Some(manifest) => manifest,
        None => match model_fetch::manifest().await {
            Ok(manifest) => manifest,
            Err(error) => {
                let message = Some(error.to_string());
                model_source::report(&send, bgone_web::protocol::ModelStoreState::Missing, None, message);
                return;
            }
        },
    };
    match action {
        ModelAction::Check { online } => model_source::recheck(&manifest, &send, online).await,
        ModelAction::Delete => model_source::delete(&manifest, &send).await,
        ModelAction::Download => {
            model_source::delete(&manifest, &|_: &FromWorker| {}).await;
            let _ = model_source::download_and_store(&manifest, &send, None).await;
        }
    }
}

/// Works through the queue unless another call already is.
async fn drain(state: Rc<RefCell<State>>) {
    {
        let mut state = state.borrow_mut();
        if state.busy || state.engine.is_none() {
            return;
        }
        state.busy = true;
    }
    loop {
        let Some((id, name, bytes)) = state.borrow_mut().queue.pop_front() else { break };
        // The one-thread CPU engine blocks this thread for a whole pass: a first visit's offline
        // copy, still being stored, is let finish first (0.14-0.16 s here; see store_in_flight).
        #[cfg(not(feature = "threads"))]
        if state.borrow().engine.as_ref().is_some_and(|engine| engine.kind == EngineKind::Cpu) {
            store_in_flight::wait(STORE_WAIT_LIMIT_MS).await;
        }
        send(&FromWorker::Started { id });
        // The engine is taken out while it works so that no RefCell borrow lives across an await.
        let Some(mut engine) = state.borrow_mut().engine.take() else { break };
        let started = request_log::now_ms();
        let result = process(&mut engine, &bytes).await;
        let requests = state.borrow().requests.count_between(started, request_log::now_ms());
        let message = match result {
            Ok((width, height, png, mask_png, kind, note)) => {
                let network_size = engine.remover.size() as u32;
                FromWorker::Done { id, width, height, png, mask_png, engine: kind, network_size, note, requests }
            }
            Err(error) => FromWorker::Failed { id, message: format!("{name}: {error}"), requests },
        };
        state.borrow_mut().engine = Some(engine);
        send(&message);
    }
    state.borrow_mut().busy = false;
}

/// Width, height, the cutout PNG, the mask PNG, the engine that ran, and a note if it fell back.
type Processed = (u32, u32, Vec<u8>, Vec<u8>, EngineKind, Option<String>);

async fn process(engine: &mut Engine, bytes: &[u8]) -> Result<Processed, RemoveError> {
    let started = request_log::now_ms();
    let photo = Arc::new(decode(bytes, &DecodeLimits::default())?);
    let decoded = request_log::now_ms();
    #[cfg(feature = "threads")]
    ensure_headroom(engine.remover.size());
    let (mask, kind, note) = mask_with_fallback(engine, &photo).await?;
    let masked = request_log::now_ms();
    let alpha = mask.alpha(photo.width(), photo.height());
    let png = render(&photo, &alpha, OutputFormat::Png, Background::Transparent)?;
    let mask_png = render(&photo, &alpha, OutputFormat::MaskPng, Background::Transparent)?;
    let done = request_log::now_ms();
    // Where a cutout's time goes, for anyone timing the app (the benchmark reads it).
    web_sys::console::info_1(
        &format!(
            "bgone worker: cutout in {:.0} ms (decode {:.0} ms, network {:.0} ms, mask and PNGs {:.0} ms; memory {:.0} MiB)",
            done - started,
            decoded - started,
            masked - decoded,
            done - masked,
            memory_mib()
        )
        .into(),
    );
    Ok((photo.width(), photo.height(), png, mask_png, kind, note))
}

/// The size of this worker's WebAssembly memory: its high-water mark, since it never shrinks.
fn memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    js_sys::Reflect::get(&memory.buffer(), &"byteLength".into()).ok().and_then(|bytes| bytes.as_f64()).unwrap_or(0.0)
}

fn memory_mib() -> f64 {
    memory_bytes() / (1024.0 * 1024.0)
}

/// Makes the memory for a pass at `size` part of this worker's memory before the worker's first
/// pass of that size (a 1024 pass takes the worker from 90 MiB, the loaded model, to 317 MiB;
/// taken as 256 bytes per network pixel, 256 MiB at 1024), by asking the allocator for that much
/// at once and giving it back. Left to the pass, the shared memory grew step by step as the
/// layers asked for it, and over 20 visits after a browser restart (`restart-ab.mjs`, two runs of
/// 10) a worker's first pass took 474 ms longer than its second (median); grown in one step first,
/// 330 ms. (The first run of 10 alone: 587 against 229 ms; the second: 383 against 348.) The
/// pages are not touched here, only made part of the memory; its high-water mark after a 1024
/// pass is 347 MiB instead of 317.
///
/// (This was also asked for whenever the memory was near its limit, so that a pass that could
/// not fit failed here rather than in a pool thread, whose trap the page never heard of. A pool
/// thread's trap now reaches the page as the worker's crash (scripts/build-cpu-worker.sh), and
/// the room the memory had left said little anyway: a pass that started with room could still
/// run out in a pool thread once the page or another task took it.)
#[cfg(feature = "threads")]
fn ensure_headroom(size: usize) {
    thread_local! {
        /// The largest working set asked for so far.
        static GROWN_FOR: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
    let needed = 256 * size * size;
    if GROWN_FOR.with(|grown| grown.replace(grown.get().max(needed)) < needed) {
        drop(std::hint::black_box(Vec::<u8>::with_capacity(needed)));
    }
}

/// Runs the network; if WebGPU fails on this image (device lost, out of memory), the image is
/// finished on the CPU and the page is told. A lost device never comes back, so after one the CPU
/// takes every later image too.
async fn mask_with_fallback(
    engine: &mut Engine,
    photo: &Arc<DynamicImage>,
) -> Result<(Mask, EngineKind, Option<String>), RemoveError> {
    match engine::mask(&engine.remover, photo).await {
        Ok(mask) => Ok((mask, engine.kind, None)),
        Err(gpu_error) if engine.kind == EngineKind::Webgpu => {
            // This GPU is tested again at the next start.
            crate::gpu_trust::forget(engine.gpu_key.take().as_deref()).await;
            if engine.cpu.is_none() {
                let Some((manifest, weights, size)) = engine.fallback.as_ref() else { return Err(gpu_error) };
                engine.cpu = Some(engine::open_cpu(manifest, weights.clone(), *size)?);
            }
            let Some(cpu) = engine.cpu.as_ref() else { return Err(gpu_error) };
            let mask = cpu.mask_async(photo).await?;
            let note = format!("{gpu_error} It was finished on the CPU.");
            if matches!(gpu_error, RemoveError::DeviceLost(_)) {
                switch_to_cpu(engine);
            }
            Ok((mask, EngineKind::Cpu, Some(note)))
        }
        Err(error) => Err(error),
    }
}

fn switch_to_cpu(engine: &mut Engine) {
    let Some(cpu) = engine.cpu.take() else { return };
    engine.remover = Arc::new(cpu);
    engine.kind = EngineKind::Cpu;
    engine.fallback = None;
    send(&FromWorker::EngineChanged {
        engine: EngineKind::Cpu,
        note: "The GPU was lost (driver reset or browser GPU crash); the CPU takes the next images. Reload to try the GPU again."
            .into(),
    });
}

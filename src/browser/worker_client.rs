//! The page's side of the worker: pick which build to start, spawn it, talk to it in `protocol`
//! messages.
//!
//! Two builds of the worker exist (see `src/worker/engine.rs`): the main one (WebGPU, and the CPU
//! on one thread) and the threaded CPU one (flex on one thread per core). The threaded one needs
//! shared memory, so the page must be cross-origin isolated (COOP/COEP headers, sent by the server
//! and by the service worker). It is started when the CPU will run anyway: the CPU engine was asked
//! for, or the browser has no WebGPU adapter (whatever was asked for) or, in automatic mode, only a
//! software one. It comes in two builds, with and without relaxed SIMD ([`Threaded`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ErrorEvent, Event, MessageEvent, Worker, WorkerOptions, WorkerType};

use super::gpu_adapter::{self, Offer};
use super::{BrowserError, query};
use crate::protocol::{EnginePreference, FromWorker, ToWorker};

/// Trunk names worker files after the binary (no hash), so the page can find it at run time.
const MAIN_WORKER_URL: &str = "./bgone-worker_loader.js";

/// The two builds of the threaded CPU worker (scripts/build-cpu-worker.sh, a Trunk hook), which
/// differ only in the convolutions' multiply-add. A browser runs one of them: Chromium the one
/// with relaxed SIMD's fused multiply-add; a browser with threads but without relaxed SIMD the
/// portable one, on every core, instead of the main worker's one thread.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Threaded {
    Relaxed,
    Portable,
}

impl Threaded {
    /// Relaxed SIMD where the browser validates it (the service worker precaches by the same
    /// test), unless the page asks for the portable build (`?simd=portable`, for tests and
    /// benchmarks in a browser that has relaxed SIMD).
    fn for_this_page() -> Self {
        if relaxed_simd() && !query::current().portable_simd { Self::Relaxed } else { Self::Portable }
    }

    /// An ES module worker.
    fn worker_url(self) -> &'static str {
        match self {
            Self::Relaxed => "./bgone-cpu-worker_loader.js",
            Self::Portable => "./bgone-cpu-worker-portable_loader.js",
        }
    }

    /// Its WebAssembly, which the page compiles and hands to it (`threaded_module`).
    fn wasm_url(self) -> &'static str {
        match self {
            Self::Relaxed => "./bgone-cpu-worker_bg.wasm",
            Self::Portable => "./bgone-cpu-worker-portable_bg.wasm",
        }
    }
}

thread_local! {
    /// Set once the threaded worker failed to start in this page (file missing, no shared memory):
    /// every later start uses the main worker.
    static THREADS_BROKEN: Cell<bool> = const { Cell::new(false) };
    /// The threaded worker's compiled WebAssembly (this page's build of it), compiled once per
    /// page and handed to every threaded worker the page starts.
    static THREADED_MODULE: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
}

/// The threaded worker's module, compiled here in the page rather than in the worker: V8 keeps
/// what it compiled and optimised for a module as long as the module is alive, and a worker's
/// copy died with the worker. A worker started while the old one still ran shared its code; one
/// started after it had gone (the other engine ran in between) compiled the engine again during
/// its first photo (1067 functions; 11 now, `code-cache.test.mjs`). Held by the page, every
/// threaded worker it starts gets the code compiled and optimised so far, and so does a new page
/// (a reload) while the browser still holds the old page's module. Compiling here also overlaps
/// the worker's own start (it listens 60-100 ms sooner).
fn threaded_module() -> js_sys::Promise {
    THREADED_MODULE.with(|module| {
        module
            .borrow_mut()
            .get_or_insert_with(|| {
                let Some(window) = web_sys::window() else {
                    return js_sys::Promise::reject(&"no window to fetch the CPU engine from".into());
                };
                js_sys::WebAssembly::compile_streaming(&window.fetch_with_str(Threaded::for_this_page().wasm_url()))
            })
            .clone()
    })
}

/// Whether `data` is the threaded worker's loader asking for its module (`hand_module`), not a
/// protocol message.
fn asks_for_module(data: &JsValue) -> bool {
    data.is_object() && Reflect::has(data, &"bgoneWantsModule".into()).unwrap_or(false)
}

/// Answers a new threaded worker's request for its module (its loader asks once it listens: a
/// message sent before would be lost), or says why there is none: the worker then fails to start
/// and the page falls back to the main worker. The listener is the worker's to keep ([`Running`]).
fn hand_module(worker: &Worker) -> Closure<dyn FnMut(MessageEvent)> {
    let target = worker.clone();
    let on_request = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if !asks_for_module(&event.data()) {
            return;
        }
        let worker = target.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let message = js_sys::Object::new();
            let set = match JsFuture::from(threaded_module()).await {
                Ok(module) => Reflect::set(&message, &"bgoneModule".into(), &module),
                Err(error) => {
                    // Not kept: the next start compiles it again.
                    THREADED_MODULE.with(|module| module.borrow_mut().take());
                    Reflect::set(&message, &"bgoneModuleError".into(), &BrowserError::from(error).to_string().into())
                }
            };
            if set.is_ok() {
                let _ = worker.post_message(&message);
            }
        });
    });
    let _ = worker.add_event_listener_with_callback("message", on_request.as_ref().unchecked_ref());
    on_request
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Build {
    Main,
    ThreadedCpu,
}

type Pending = Rc<RefCell<Option<Vec<JsValue>>>>;

/// A started worker and the listeners it calls, which go when it goes (the page starts another,
/// or drops its client): each start used to leak them. A listener may be dropped while it runs
/// (the error listener replaces its own worker); wasm-bindgen then frees it once it returns.
struct Running {
    worker: Worker,
    build: Build,
    _listeners: Listeners,
}

/// Closures of different types, kept only to be dropped.
type Listeners = Vec<Box<dyn std::any::Any>>;

type Slot = Rc<RefCell<Option<Running>>>;

pub struct WorkerClient {
    worker: Slot,
    /// Messages waiting for the worker to listen; `None` once it does.
    pending: Pending,
    /// Why the CPU runs where the GPU could have been asked for, once the build is chosen.
    cpu_reason: Rc<Cell<Option<&'static str>>>,
}

fn cross_origin_isolated() -> bool {
    Reflect::get(&js_sys::global(), &"crossOriginIsolated".into()).is_ok_and(|value| value.is_truthy())
}

/// Whether the browser's WebAssembly has relaxed SIMD, which one build of the threaded CPU worker
/// uses (fused multiply-add): a browser without it could not compile that build at all.
fn relaxed_simd() -> bool {
    // A module whose one function returns f32x4.relaxed_madd of three v128 constants.
    const ZERO: [u8; 18] = [0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut body = vec![0x00];
    (0..3).for_each(|_| body.extend(ZERO));
    body.extend([0xfd, 0x85, 0x02, 0x0b]);
    let mut module = vec![0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0];
    module.extend([10, body.len() as u8 + 2, 1, body.len() as u8]);
    module.extend(body);
    js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(module.as_slice())).unwrap_or(false)
}

/// Whether the threaded CPU worker failed to start in this page, which then runs the main worker
/// on one thread (and needs it offline too: `sw.js`, `keep-main-worker`).
pub fn threads_broken() -> bool {
    THREADS_BROKEN.with(Cell::get)
}

/// Whether this page can run the threaded CPU worker: cross-origin isolated (shared memory), and
/// the worker has not failed to start here before. With or without relaxed SIMD: there is a
/// build for each ([`Threaded`]).
pub fn threads_possible() -> bool {
    !threads_broken() && cross_origin_isolated()
}

/// The worker to start, and why the CPU runs where the GPU could have been asked for (for the
/// engine's note). Where the threaded worker cannot run, the main worker decides for itself (it
/// leaves a software adapter to its CPU engine too, and says why).
async fn choose(preference: EnginePreference) -> (Build, Option<&'static str>) {
    if !threads_possible() {
        return (Build::Main, None);
    }
    match preference {
        EnginePreference::Cpu => (Build::ThreadedCpu, None),
        // WebGPU asked for where the browser has no adapter at all: the main worker would find
        // none either and hand over to this one, after its 28.8 MB had been fetched for nothing
        // (and, offline, from a cache that leaves it out in such a browser: `sw.js`).
        EnginePreference::Webgpu => match gpu_adapter::offer().await {
            Offer::None => (Build::ThreadedCpu, gpu_adapter::cpu_reason(Offer::None)),
            _ => (Build::Main, None),
        },
        EnginePreference::Auto => match gpu_adapter::offer().await {
            Offer::Hardware => (Build::Main, None),
            offer => (Build::ThreadedCpu, gpu_adapter::cpu_reason(offer)),
        },
    }
}

/// The worker, and the listener that hands the threaded one its module.
fn create(build: Build) -> Result<(Worker, Listeners), JsValue> {
    match build {
        Build::Main => Ok((Worker::new(MAIN_WORKER_URL)?, Vec::new())),
        Build::ThreadedCpu => {
            let options = WorkerOptions::new();
            options.set_type(WorkerType::Module);
            let worker = Worker::new_with_options(Threaded::for_this_page().worker_url(), &options)?;
            let on_request = hand_module(&worker);
            // Compiling starts now, while the worker's scripts load.
            let _ = threaded_module();
            Ok((worker, vec![Box::new(on_request)]))
        }
    }
}

impl WorkerClient {
    /// `on_message` gets every message; `on_crash` is called if the worker dies. Messages sent
    /// before the worker listens wait in order, so the choice of build may take a moment.
    pub fn spawn(
        preference: EnginePreference,
        on_message: impl Fn(FromWorker) + 'static,
        on_crash: impl Fn(String) + 'static,
    ) -> Self {
        let client = Self {
            worker: Rc::new(RefCell::new(None)),
            pending: Rc::new(RefCell::new(Some(Vec::new()))),
            cpu_reason: Rc::new(Cell::new(None)),
        };
        let (slot, pending, reason) = (client.worker.clone(), client.pending.clone(), client.cpu_reason.clone());
        let handlers = Rc::new(Handlers { on_message: Box::new(on_message), on_crash: Box::new(on_crash) });
        wasm_bindgen_futures::spawn_local(async move {
            let (build, why) = choose(preference).await;
            reason.set(why);
            start(build, slot, pending, handlers);
        });
        client
    }

    /// Why the CPU engine runs though the GPU could have been asked for ("this browser offers no
    /// WebGPU adapter"), where the page decided it; the worker does not know.
    pub fn cpu_reason(&self) -> Option<&'static str> {
        self.cpu_reason.get()
    }

    /// Whether the worker running is the main one (WebGPU, and the CPU engine on one thread),
    /// not the threaded CPU worker.
    pub fn is_main(&self) -> bool {
        self.worker.borrow().as_ref().is_some_and(|running| running.build == Build::Main)
    }

    pub fn send(&self, message: &ToWorker) -> Result<(), BrowserError> {
        let value = serde_wasm_bindgen::to_value(message).map_err(|e| BrowserError(e.to_string()))?;
        if let Some(pending) = self.pending.borrow_mut().as_mut() {
            pending.push(value);
            return Ok(());
        }
        match self.worker.borrow().as_ref() {
            Some(running) => running.worker.post_message(&value)?,
            None => return Err(BrowserError("the worker is not running".into())),
        }
        Ok(())
    }
}

struct Handlers {
    on_message: Box<dyn Fn(FromWorker)>,
    on_crash: Box<dyn Fn(String)>,
}

/// Starts `build` in `slot`. If the threaded worker dies before it listens, the main worker takes
/// its place (`fall_back_to_main`).
fn start(build: Build, slot: Slot, pending: Pending, handlers: Rc<Handlers>) {
    let (worker, mut listeners) = match create(build) {
        Ok(created) => created,
        Err(error) if build == Build::ThreadedCpu => return fall_back_to_main(&error.into(), slot, pending, handlers),
        Err(error) => {
            (handlers.on_crash)(format!("the worker could not start: {}", BrowserError::from(error)));
            return;
        }
    };
    let crashed = crash_handler(build, &worker, &slot, &pending, &handlers);
    let (flush_worker, flush_pending, message_handlers, reported) =
        (worker.clone(), pending.clone(), handlers.clone(), crashed.clone());
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if asks_for_module(&event.data()) {
            return;
        }
        if let Some(message) = crash_report(&event.data()) {
            return reported(message, CrashSource::Worker);
        }
        match serde_wasm_bindgen::from_value::<FromWorker>(event.data()) {
            Ok(FromWorker::Listening) => {
                for message in flush_pending.borrow_mut().take().unwrap_or_default() {
                    let _ = flush_worker.post_message(&message);
                }
            }
            Ok(message) => (message_handlers.on_message)(message),
            Err(error) => web_sys::console::error_1(&format!("bgone: bad worker message: {error}").into()),
        }
    });
    // A script that fails to load (404, refused) fires a plain `Event`, not an `ErrorEvent`: the
    // worker posted nothing, so the crash is handled at once. An `ErrorEvent` (an uncaught error,
    // most likely a trap) is the browser's copy of what the worker's loader also posts in order
    // with its messages (`crash_report`): it can overtake the worker's last messages, and without
    // its "started" the page took the image the worker died on for one it had not begun and gave
    // it to the next worker instead of saying it failed (the crash test that timed out in CI,
    // twice). So it is handled only if the worker's own report has not come a while later (an
    // error thrown before the loader listens).
    let on_error = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        let Some(error) = event.dyn_ref::<ErrorEvent>() else {
            return crashed("the worker's script could not be loaded".to_string(), CrashSource::Browser);
        };
        let (message, later_crashed) = (error.message(), crashed.clone());
        let later = Closure::once_into_js(move || later_crashed(message, CrashSource::Browser));
        let waiting = web_sys::window().is_some_and(|window| {
            window.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), BROWSER_REPORT_GRACE_MS).is_ok()
        });
        if !waiting {
            crashed(error.message(), CrashSource::Browser);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The worker lives as long as the page keeps this client; its handlers as long as it.
    listeners.push(Box::new(on_message));
    listeners.push(Box::new(on_error));
    *slot.borrow_mut() = Some(Running { worker, build, _listeners: listeners });
}

/// How long the page waits for a dead worker's own report of its crash (`crash_report`) after the
/// browser's error event, before it handles the crash on the browser's word.
const BROWSER_REPORT_GRACE_MS: i32 = 1000;

/// Who told the page of a worker's crash (the console says which).
#[derive(Clone, Copy, Debug)]
enum CrashSource {
    /// The worker's loader, in order with the worker's messages.
    Worker,
    /// The browser's error event on the `Worker`.
    Browser,
}

/// The message of a crash the worker's loader reports (`{ bgoneCrash: message }`, posted from its
/// global `error` listener: assets/bgone-worker_loader.js, scripts/build-cpu-worker.sh).
fn crash_report(data: &JsValue) -> Option<String> {
    if !data.is_object() {
        return None;
    }
    Reflect::get(data, &"bgoneCrash".into()).ok().and_then(|message| message.as_string())
}

type CrashHandler = Rc<dyn Fn(String, CrashSource)>;

/// What the page does when the worker in `slot` dies, whoever says so first; once per worker (a
/// worker can report more than one error as it dies, and each comes two ways). The threaded
/// worker dying before it listens cannot run in this page: the main worker takes its place.
fn crash_handler(build: Build, worker: &Worker, slot: &Slot, pending: &Pending, handlers: &Rc<Handlers>) -> CrashHandler {
    let (this, slot, pending, handlers) = (worker.clone(), slot.clone(), pending.clone(), handlers.clone());
    let handled = Cell::new(false);
    Rc::new(move |message: String, source: CrashSource| {
        // Unless the page has let this worker go meanwhile (another engine chosen).
        let current = slot.borrow().as_ref().is_some_and(|running| running.worker == this);
        if !current || handled.replace(true) {
            return;
        }
        let listening = pending.borrow().is_none();
        if build == Build::ThreadedCpu && !listening {
            let dead = slot.borrow_mut().take();
            if let Some(dead) = dead {
                dead.worker.terminate();
            }
            return fall_back_to_main(&BrowserError(message), slot.clone(), pending.clone(), handlers.clone());
        }
        web_sys::console::error_1(&format!("bgone: the worker stopped ({source:?} report): {message}").into());
        (handlers.on_crash)(message);
    })
}

/// The threaded worker could not be created or died before it listened: it cannot run in this
/// page, so this and every later start use the main worker, with the same waiting messages.
fn fall_back_to_main(reason: &BrowserError, slot: Slot, pending: Pending, handlers: Rc<Handlers>) {
    web_sys::console::warn_1(&format!("bgone: the threaded CPU worker did not start ({reason}); using one thread").into());
    THREADS_BROKEN.with(|broken| broken.set(true));
    start(Build::Main, slot, pending, handlers);
}

impl Drop for WorkerClient {
    fn drop(&mut self) {
        let running = self.worker.borrow_mut().take();
        if let Some(running) = running {
            running.worker.terminate();
        }
    }
}

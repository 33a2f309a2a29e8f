//! The page: owns the state, talks to the worker, lays out the components. `offline` follows the
//! service worker and the model's offline copy; `privacy` counts requests during processing.

mod gpu_fallback;
mod offline;
mod privacy;

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::ServiceWorkerRegistration;

use crate::browser::{blobs, gpu_adapter, query, worker_client::WorkerClient};
use crate::components::{DropZone, ItemCard, OfflinePanel, PrivacyPanel, StatusBar, Toolbar, UpdateBanner};
use crate::offline::request_log::RequestLog;
use crate::protocol::{EngineKind, EnginePreference, FromWorker, ToWorker};
use crate::restarts::{AfterCrash, CrashRecord};
use crate::state::{
    BackgroundChoice, Cutout, Item, ModelProgress, OfflineModel, PageStatus, RequestCount, ShellState, Stage, StorageState,
};

/// Everything the components read and write, handed down by context.
#[derive(Clone, Copy)]
pub struct AppState {
    pub status: RwSignal<PageStatus>,
    pub progress: RwSignal<ModelProgress>,
    pub engine: RwSignal<Option<EngineKind>>,
    pub engine_note: RwSignal<Option<String>>,
    /// Threads the CPU engine runs on (1 in the main worker, one per core in the threaded one).
    pub threads: RwSignal<u32>,
    pub preference: RwSignal<EnginePreference>,
    pub items: RwSignal<Vec<Item>>,
    pub background: RwSignal<BackgroundChoice>,
    /// `performance.now()`, ticking while anything is processing, for elapsed times.
    pub now_ms: RwSignal<f64>,
    /// The model's offline copy, the app shell's cache, storage: the offline panel.
    pub model_store: RwSignal<OfflineModel>,
    pub shell: RwSignal<ShellState>,
    pub storage: RwSignal<StorageState>,
    pub online: RwSignal<bool>,
    /// A new version is installed and waits for the user to reload.
    pub update_waiting: RwSignal<bool>,
    pub can_install: RwSignal<bool>,
    /// Requests made while the last image was processed (`None` while one is).
    pub last_requests: RwSignal<Option<RequestCount>>,
    worker: StoredValue<Option<WorkerClient>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// The side the network runs at: `None` is the model's own (1024); the Quality setting's
    /// "Fast" is 512; `?size=N` sets any multiple of 64.
    pub size: RwSignal<Option<usize>>,
    registration: StoredValue<Option<ServiceWorkerRegistration>, LocalStorage>,
    install_prompt: StoredValue<Option<wasm_bindgen::JsValue>, LocalStorage>,
    page_requests: StoredValue<Option<RequestLog>, LocalStorage>,
    /// Per image being processed: when it started, and the service worker's count then.
    windows: StoredValue<HashMap<u32, (f64, Option<u32>)>>,
    /// Worker crashes since the last progress, so a worker that cannot run is not restarted forever.
    crashes: StoredValue<CrashRecord>,
    /// Why the GPU failed in this start, once it did: the CPU engine then runs on every core
    /// (`gpu_fallback`).
    gpu_failed: StoredValue<Option<String>>,
    /// The GPU was lost during an image: the threaded CPU worker takes over once that image is done.
    switch_after_image: StoredValue<bool>,
}

pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

impl AppState {
    fn item(&self, id: u32) -> Option<Item> {
        self.items.with_untracked(|items| items.iter().find(|item| item.id == id).cloned())
    }

    /// Images queued or being processed, in the order they were added (and sent).
    fn unfinished(&self) -> Vec<Item> {
        self.items.with_untracked(|items| {
            items.iter().filter(|item| matches!(item.stage.get_untracked(), Stage::Queued | Stage::Processing)).cloned().collect()
        })
    }

    fn on_worker_message(self, message: FromWorker) {
        match message {
            FromWorker::Listening => {}
            FromWorker::ModelProgress { loaded, total } => self.progress.set(ModelProgress { loaded, total }),
            FromWorker::ModelStore { state, record, message } => {
                self.on_model_store(OfflineModel { state, record, message });
            }
            FromWorker::Ready { engine, threads, note } => {
                if self.cpu_instead_of_gpu(engine, &note) {
                    return;
                }
                self.engine.set(Some(engine));
                self.threads.set(threads);
                let page_reason = self.worker.with_value(|worker| worker.as_ref().and_then(WorkerClient::cpu_reason));
                let page_note = page_reason.map(gpu_adapter::cpu_note);
                self.engine_note.set(note.or(page_note).or_else(|| self.gpu_failed.get_value()));
                self.status.set(PageStatus::Ready);
                self.crashes.update_value(CrashRecord::ready);
                self.on_engine_ready();
            }
            FromWorker::EngineChanged { engine, note } => {
                self.engine.set(Some(engine));
                self.gpu_lost(engine, &note);
                self.engine_note.set(Some(note));
            }
            FromWorker::InitFailed { message } => self.status.set(PageStatus::Failed(message)),
            FromWorker::Started { id } => {
                self.processing_started(id);
                if let Some(item) = self.item(id) {
                    item.stage.set(Stage::Processing);
                    item.started_ms.set(Some(now_ms()));
                }
            }
            FromWorker::Done { id, width, height, png, mask_png, engine, network_size, note, requests } => {
                self.processing_finished(id, requests);
                self.crashes.update_value(CrashRecord::image_finished);
                let Some(item) = self.item(id) else { return self.switch_if_due() };
                let urls = blobs::blob(&png, "image/png")
                    .and_then(|png| blobs::object_url(&png))
                    .and_then(|png_url| Ok((png_url, blobs::object_url(&blobs::blob(&mask_png, "image/png")?)?)));
                item.finished_ms.set(Some(now_ms()));
                match urls {
                    Ok((png_url, mask_url)) => {
                        item.result.set(Some(Cutout { png_url, mask_url, width, height, engine, network_size, note }));
                        item.stage.set(Stage::Done);
                    }
                    Err(error) => {
                        item.error.set(Some(format!("The result could not be shown ({error}).")));
                        item.stage.set(Stage::Error);
                    }
                }
                self.switch_if_due();
            }
            FromWorker::Failed { id, message, requests } => {
                self.processing_finished(id, requests);
                self.crashes.update_value(CrashRecord::image_finished);
                if let Some(item) = self.item(id) {
                    fail(&item, message);
                }
                self.switch_if_due();
            }
        }
    }

    /// Starts (or restarts) the worker with the current engine preference and re-sends every
    /// image that had not finished. Earlier crashes are forgotten: this is a new start (the page
    /// opened, the user changed the engine or the quality, the model was stored or removed).
    pub fn start_worker(self) {
        self.crashes.set_value(CrashRecord::default());
        self.gpu_failed.set_value(None);
        self.switch_after_image.set_value(false);
        self.spawn_worker();
    }

    fn spawn_worker(self) {
        self.worker.set_value(None);
        self.status.set(PageStatus::LoadingModel);
        self.engine.set(None);
        let preference = self.running_preference();
        let client = WorkerClient::spawn(
            preference,
            move |message| self.on_worker_message(message),
            move |reason| self.on_worker_crash(reason),
        );
        let init = ToWorker::Init { engine: preference, size: self.size.get_untracked() };
        if let Err(error) = client.send(&init) {
            self.status.set(PageStatus::Failed(error.to_string()));
        }
        self.worker.set_value(Some(client));
        let unfinished = self.unfinished();
        for item in unfinished {
            item.stage.set(Stage::Queued);
            self.resend(item);
        }
    }

    /// The worker died (out of memory, a crash in the engine): the image it was on fails with
    /// a message, a new worker takes the rest (`restarts` says when it does not).
    fn on_worker_crash(self, reason: String) {
        let unfinished = self.unfinished();
        let current = unfinished.iter().find(|item| item.stage.get_untracked() == Stage::Processing);
        let ready = matches!(self.status.get_untracked(), PageStatus::Ready);
        let cause = crash_cause(&reason);
        match self.crashes.try_update_value(|record| record.after_crash(ready, current.is_some())) {
            Some(AfterCrash::FailCurrent) => {
                if let Some(item) = current {
                    fail(
                        item,
                        format!(
                            "{}: the engine crashed on this image ({cause}). It was restarted and the other images go on; \
                         if this photo fails again, close other tabs or try a smaller copy of it.",
                            item.name
                        ),
                    );
                }
            }
            Some(AfterCrash::GiveUpOldest) => {
                if let Some(item) = unfinished.first() {
                    fail(
                        item,
                        format!(
                            "{}: the engine crashed twice while taking this image, before it could start ({cause}). \
                         The other images go on; try a smaller copy of this photo.",
                            item.name
                        ),
                    );
                }
            }
            Some(AfterCrash::Stop) | None => {
                let message = format!(
                    "The engine could not start: it crashed twice while loading ({cause}). \
                     Reload the page to try again, or close other tabs first."
                );
                for item in &unfinished {
                    fail(item, format!("{}: not processed, because the engine could not start.", item.name));
                }
                self.worker.set_value(None);
                self.status.set(PageStatus::Failed(message));
                return;
            }
            Some(AfterCrash::Restart) => {}
        }
        self.spawn_worker();
    }

    /// Sends a message that needs no answer tied to an image (offline actions).
    fn tell_worker(self, message: &ToWorker) {
        let sent = self.worker.with_value(|worker| match worker {
            Some(worker) => worker.send(message).map_err(|e| e.to_string()),
            None => Err("the worker is not running".into()),
        });
        if let Err(error) = sent {
            self.model_store.update(|m| m.message = Some(error));
        }
    }

    fn send(self, id: u32, name: String, bytes: Vec<u8>) {
        let sent = self.worker.with_value(|worker| match worker {
            Some(worker) => worker.send(&ToWorker::Process { id, name, bytes }).map_err(|e| e.to_string()),
            None => Err("the worker is not running".into()),
        });
        if let (Err(error), Some(item)) = (sent, self.item(id)) {
            item.error.set(Some(format!("Could not start this image ({error}).")));
            item.stage.set(Stage::Error);
        }
    }

    fn resend(self, item: Item) {
        spawn_local(async move {
            match blobs::fetch_blob(&item.original_url).await {
                Ok(blob) => match blobs::blob_bytes(&blob).await {
                    Ok(bytes) => self.send(item.id, item.name.clone(), bytes),
                    Err(error) => item.error.set(Some(error.to_string())),
                },
                Err(error) => item.error.set(Some(error.to_string())),
            }
        });
    }

    /// Queues dropped, picked or pasted files.
    pub fn add_files(self, files: Vec<web_sys::File>) {
        for file in files {
            let id = self.next_id.get_value();
            self.next_id.set_value(id + 1);
            let name = if file.name().is_empty() { format!("pasted-{id}.png") } else { file.name() };
            let original_url = blobs::object_url(&file).unwrap_or_default();
            let item = Item {
                id,
                name: name.clone(),
                original_url,
                stage: RwSignal::new(Stage::Queued),
                started_ms: RwSignal::new(None),
                finished_ms: RwSignal::new(None),
                result: RwSignal::new(None),
                error: RwSignal::new(None),
                saved: RwSignal::new(false),
            };
            self.items.update(|items| items.push(item.clone()));
            spawn_local(async move {
                match blobs::blob_bytes(&file).await {
                    Ok(bytes) => self.send(id, name, bytes),
                    Err(error) => {
                        item.error.set(Some(format!("{name}: the file could not be read ({error}).")));
                        item.stage.set(Stage::Error);
                    }
                }
            });
        }
    }

    /// Finished cutouts not downloaded or copied yet.
    pub fn unsaved_results(&self) -> usize {
        self.items.with_untracked(|items| {
            items.iter().filter(|item| item.result.get_untracked().is_some() && !item.saved.get_untracked()).count()
        })
    }

    /// The `status` element's state.
    pub fn overall(&self) -> Stage {
        match self.status.get() {
            PageStatus::LoadingModel => return Stage::LoadingModel,
            PageStatus::Failed(_) => return Stage::Error,
            PageStatus::Ready => {}
        }
        self.items.with(|items| {
            let stages: Vec<Stage> = items.iter().map(|item| item.stage.get()).collect();
            if stages.iter().any(|s| matches!(s, Stage::Queued | Stage::Processing)) {
                Stage::Processing
            } else if stages.is_empty() {
                Stage::Ready
            } else if stages.iter().all(|s| *s == Stage::Error) {
                Stage::Error
            } else {
                Stage::Done
            }
        })
    }
}

#[component]
pub fn App() -> impl IntoView {
    let query = query::current();
    let state = AppState {
        status: RwSignal::new(PageStatus::LoadingModel),
        progress: RwSignal::new(ModelProgress::default()),
        engine: RwSignal::new(None),
        engine_note: RwSignal::new(None),
        threads: RwSignal::new(1),
        preference: RwSignal::new(query.engine.unwrap_or_default()),
        items: RwSignal::new(Vec::new()),
        background: RwSignal::new(BackgroundChoice::Transparent),
        now_ms: RwSignal::new(now_ms()),
        model_store: RwSignal::new(OfflineModel::default()),
        shell: RwSignal::new(ShellState::Unknown),
        storage: RwSignal::new(StorageState::default()),
        online: RwSignal::new(web_sys::window().is_none_or(|w| w.navigator().on_line())),
        update_waiting: RwSignal::new(false),
        can_install: RwSignal::new(false),
        last_requests: RwSignal::new(None),
        worker: StoredValue::new_local(None),
        next_id: StoredValue::new(0),
        size: RwSignal::new(query.size),
        registration: StoredValue::new_local(None),
        install_prompt: StoredValue::new_local(None),
        page_requests: StoredValue::new_local(Some(RequestLog::start())),
        windows: StoredValue::new(HashMap::new()),
        crashes: StoredValue::new(CrashRecord::default()),
        gpu_failed: StoredValue::new(None),
        switch_after_image: StoredValue::new(false),
    };
    provide_context(state);
    state.start_worker();
    state.start_offline();

    // Elapsed times tick only while something is processing.
    let _ = set_interval_with_handle(
        move || {
            if state.overall() == Stage::Processing {
                state.now_ms.set(now_ms());
            }
        },
        std::time::Duration::from_millis(200),
    );

    // Ctrl+V anywhere on the page adds pasted images.
    let _ = window_event_listener(leptos::ev::paste, move |event| {
        let files = event.clipboard_data().and_then(|data| data.files()).map(file_list).unwrap_or_default();
        if !files.is_empty() {
            event.prevent_default();
            state.add_files(files);
        }
    });

    // Results live only in this page: leaving with some not yet downloaded asks first.
    let _ = window_event_listener(leptos::ev::beforeunload, move |event| {
        if state.unsaved_results() > 0 {
            event.prevent_default();
            event.set_return_value("Some cutouts have not been downloaded yet. Leave anyway?");
        }
    });

    // Leaving for good (not into the back-forward cache): the worker and its threads go at once.
    // Chromium otherwise frees their memory (350 MB after a 1024 pass) a few seconds after the
    // page closes, while a page opened meanwhile is already loading its own.
    let _ = window_event_listener(leptos::ev::pagehide, move |event| {
        if !event.persisted() {
            state.worker.set_value(None);
        }
    });

    view! {
        <header class="masthead">
            <h1>"bgone"</h1>
            <p class="tagline">"Background removal that runs in your browser. Your photos never leave this device."</p>
        </header>
        <UpdateBanner />
        <main>
            <StatusBar />
            <DropZone />
            <Toolbar />
            <section class="items" aria-label="Images">
                <For each=move || state.items.get() key=|item| item.id let:item>
                    <ItemCard item=item />
                </For>
            </section>
            <div class="panels">
                <OfflinePanel />
                <PrivacyPanel />
            </div>
        </main>
    }
}

pub fn file_list(list: web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

pub fn use_app() -> AppState {
    expect_context::<AppState>()
}

/// The item ends with `message` as its error.
fn fail(item: &Item, message: String) {
    item.finished_ms.set(Some(now_ms()));
    item.error.set(Some(message));
    item.stage.set(Stage::Error);
}

/// What a worker's uncaught error most likely means, for a user. WebAssembly has no way to report
/// a failed allocation except by aborting, which reaches the page as "unreachable".
fn crash_cause(reason: &str) -> String {
    if reason.contains("unreachable") || reason.to_lowercase().contains("memory") {
        format!("most likely out of memory; the browser said \"{reason}\"")
    } else {
        format!("the browser said \"{reason}\"")
    }
}

//! The page's offline layer: registers the service worker, follows the app shell's cache and the
//! model's offline copy (reported by the worker), storage quota and persistence, updates and
//! installation. The `offline-ready` element reads [`AppState::offline_ready`].

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

use super::AppState;
use crate::browser::worker_client;
use crate::offline::{service_worker, storage};
use crate::protocol::{ModelStoreState, ToWorker};
use crate::state::{OfflineModel, PageStatus, ShellState, Stage, StorageState};

/// How often a model that is not there (evicted, or a first download the network broke off) is
/// retried while the browser says it is online.
const RETRY_SECONDS: u64 = 15;

impl AppState {
    /// Registers `sw.js` and starts following everything the offline panel shows.
    ///
    /// On a first visit (no service worker controls the page yet) the registration waits until
    /// the engine is ready, that is until the model is in: installing the worker precaches the
    /// app's files (37 MB, the engine this page does not run among them), and beside the model's
    /// download they shared the connection with it. Through one link of 100 Mbit/s shared by
    /// every file (`LINK_MBPS=100` in `tests/bench/return-probe.mjs`) the model took 9.2 s
    /// instead of 7.0 s and the first cutout came 12.9 s after the navigation. Where photos wait,
    /// it also waits until the first of them is done: the precache's fetches and Cache Storage
    /// writes ran beside the first pass, on the same cores (a first visit on this 2-core VM, at
    /// the server's full speed: the first cutout done 2.66-2.87 s after the navigation against
    /// 2.78-3.05 s, its pass 1.81-1.95 s against 1.93-2.14 s, five visits each).
    pub(super) fn start_offline(self) {
        if service_worker::controls_page() {
            spawn_local(self.register_service_worker());
        } else {
            self.shell.set(ShellState::AfterModel);
            Effect::new(move |registered: Option<bool>| {
                if registered == Some(true) {
                    return true;
                }
                if self.status.with(|status| *status == PageStatus::LoadingModel) || self.first_photo_pending() {
                    return false;
                }
                spawn_local(self.register_service_worker());
                true
            });
        }
        spawn_local(async move {
            let persisted = storage::persisted().await.ok();
            self.storage.update(|s| s.persisted = persisted);
            self.refresh_storage().await;
        });

        // Back online: heal what going offline broke (a model that could not download). The
        // `online` event is the fast path; a slow retry covers connections that come back
        // without one (a captive portal, a server that was down, a connection that broke off
        // while the browser still called itself online). A download retried goes on from where
        // it broke off (`unfinished_download`).
        let _ = window_event_listener(leptos::ev::online, move |_| self.on_back_online());
        let _ = set_interval_with_handle(
            move || {
                let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
                let store = self.model_store.with_untracked(|m| m.state);
                let failed = matches!(self.status.get_untracked(), PageStatus::Failed(_));
                let download_failed = failed && store == ModelStoreState::Missing;
                if online && (store == ModelStoreState::Evicted || download_failed) {
                    self.on_back_online();
                }
            },
            std::time::Duration::from_secs(RETRY_SECONDS),
        );
        let _ = window_event_listener(leptos::ev::offline, move |_| self.online.set(false));

        // The browser offers installation: keep its event for the Install button.
        let _ = window_event_listener_untyped("beforeinstallprompt", move |event: web_sys::Event| {
            event.prevent_default();
            self.install_prompt.set_value(Some(event.into()));
            self.can_install.set(true);
        });
        let _ = window_event_listener_untyped("appinstalled", move |_| {
            self.install_prompt.set_value(None);
            self.can_install.set(false);
        });
    }

    /// Photos wait or are being cut out and none has finished yet: a first visit's precache would
    /// run beside the first pass (its fetches and Cache Storage writes, on the same cores).
    fn first_photo_pending(self) -> bool {
        self.items.with(|items| {
            let (mut waiting, mut finished) = (false, false);
            for item in items {
                match item.stage.get() {
                    Stage::Queued | Stage::Processing => waiting = true,
                    Stage::Done | Stage::Error => finished = true,
                    Stage::LoadingModel | Stage::Ready => {}
                }
            }
            waiting && !finished
        })
    }

    async fn register_service_worker(self) {
        self.shell.set(ShellState::Installing);
        match service_worker::register().await {
            Ok(registration) => {
                if service_worker::update_waiting(&registration) {
                    self.update_waiting.set(true);
                }
                service_worker::watch_for_updates(&registration, move || self.update_waiting.set(true));
                self.registration.set_value(Some(registration));
                self.refresh_shell().await;
            }
            Err(error) => self.shell.set(ShellState::Failed(error.to_string())),
        }
    }

    /// The shell's status; where the threaded CPU worker could not start, after asking the
    /// service worker to keep the main worker this page runs instead.
    async fn refresh_shell(self) {
        let Some(registration) = self.registration.get_value() else { return };
        let status = if worker_client::threads_broken() {
            service_worker::keep_main_worker(&registration).await
        } else {
            service_worker::shell_status(&registration).await
        };
        match status {
            Ok(status) if status.complete => self.shell.set(ShellState::Cached(status)),
            Ok(status) => self.shell.set(ShellState::Failed(format!(
                "{} of {} app files are missing from the offline cache; reload while online.",
                status.missing, status.files
            ))),
            Err(error) => self.shell.set(ShellState::Failed(error.to_string())),
        }
    }

    async fn refresh_storage(self) {
        if let Ok(estimate) = storage::estimate().await {
            self.storage.update(|s| s.estimate = Some(estimate));
        }
    }

    /// The engine is ready: if the page had to fall back to the main worker, the service worker
    /// (once registered, else when it is) keeps that worker's files for offline use too.
    pub(super) fn on_engine_ready(self) {
        if worker_client::threads_broken() && self.registration.with_value(Option::is_some) {
            spawn_local(self.refresh_shell());
        }
    }

    /// The worker's report on the model's offline copy.
    pub(super) fn on_model_store(self, model: OfflineModel) {
        let stored = model.state == ModelStoreState::Stored;
        self.model_store.set(model);
        if stored {
            spawn_local(async move {
                // Ask once the model is worth keeping; the answer is shown, not required.
                if self.storage.with_untracked(|s| s.persisted) != Some(true) {
                    let granted = storage::persist().await.ok();
                    self.storage.update(|s| s.persisted = granted);
                }
                self.refresh_storage().await;
            });
        } else {
            spawn_local(self.refresh_storage());
        }
    }

    fn on_back_online(self) {
        self.online.set(true);
        if matches!(self.status.get_untracked(), PageStatus::Failed(_)) {
            self.start_worker();
        } else if matches!(self.model_store.with_untracked(|m| m.state), ModelStoreState::Evicted | ModelStoreState::Missing) {
            self.tell_worker(&ToWorker::CheckModel { online: true });
        }
        if matches!(self.shell.get_untracked(), ShellState::Failed(_)) {
            self.start_offline_shell_retry();
        }
    }

    fn start_offline_shell_retry(self) {
        spawn_local(async move {
            match self.registration.get_value() {
                Some(registration) => {
                    let _ = service_worker::check_for_update(&registration).await;
                    self.refresh_shell().await;
                }
                // Its registration failed (a first visit that went offline before the model was
                // in, when the worker is registered): register it now.
                None => self.register_service_worker().await,
            }
        });
    }

    /// "Check offline readiness": the shell's cache, the model's bytes (sha256) and storage.
    pub fn check_readiness(self) {
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        self.tell_worker(&ToWorker::CheckModel { online });
        spawn_local(async move {
            self.refresh_shell().await;
            self.refresh_storage().await;
        });
    }

    pub fn delete_model(self) {
        self.tell_worker(&ToWorker::DeleteModel);
    }

    pub fn download_model(self) {
        if matches!(self.status.get_untracked(), PageStatus::Failed(_)) {
            self.start_worker();
        } else {
            self.tell_worker(&ToWorker::DownloadModel);
        }
    }

    pub fn apply_update(self) {
        if let Some(registration) = self.registration.get_value()
            && let Err(error) = service_worker::apply_update(&registration)
        {
            self.shell.set(ShellState::Failed(error.to_string()));
        }
    }

    pub fn install(self) {
        let Some(prompt) = self.install_prompt.get_value() else { return };
        if let Ok(function) = js_sys::Reflect::get(&prompt, &"prompt".into())
            && let Some(function) = wasm_bindgen::JsCast::dyn_ref::<js_sys::Function>(&function)
        {
            let _ = function.call0(&prompt);
        }
        self.install_prompt.set_value(None::<JsValue>);
        self.can_install.set(false);
    }

    /// The contract's `offline-ready` state: `no`, `downloading`, `yes` or `evicted`.
    pub fn offline_ready(&self) -> &'static str {
        match self.model_store.with(|m| m.state) {
            ModelStoreState::Evicted => "evicted",
            ModelStoreState::Downloading => "downloading",
            ModelStoreState::Missing => "no",
            ModelStoreState::Stored => match self.shell.get() {
                ShellState::Cached(_) => "yes",
                ShellState::AfterModel | ShellState::Installing => "downloading",
                ShellState::Failed(_) | ShellState::Unknown => "no",
            },
        }
    }

    /// Shown beside the model while the page is still fine to use online.
    pub fn storage_text(&self) -> Option<String> {
        let state: StorageState = self.storage.get();
        let estimate = state.estimate?;
        Some(format!("{:.0} MB used of {:.0} MB available to this site", estimate.usage / 1e6, estimate.quota / 1e6))
    }
}

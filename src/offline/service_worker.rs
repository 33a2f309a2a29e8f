//! The page's side of `sw.js`: register it, ask it whether the app shell is cached and how many
//! requests it let through to the network, and switch to a waiting new version when the user
//! chooses to.

use futures_channel::oneshot;
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageChannel, MessageEvent, ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration};

use super::OfflineError;

pub const SCRIPT_URL: &str = "/sw.js";

/// What the service worker says about the app shell's cache.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ShellStatus {
    pub build: String,
    pub cache: String,
    pub files: u32,
    pub missing: u32,
    pub complete: bool,
}

fn container() -> Result<ServiceWorkerContainer, OfflineError> {
    let navigator = web_sys::window().ok_or(OfflineError::Unsupported("a window"))?.navigator();
    let has = Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    if !has {
        return Err(OfflineError::Unsupported("service workers (a secure https:// or localhost page is needed)"));
    }
    Ok(navigator.service_worker())
}

/// Whether a service worker controls this page (every visit after the first).
pub fn controls_page() -> bool {
    container().is_ok_and(|container| container.controller().is_some())
}

/// Registers `sw.js` (a no-op when it already is) and resolves once a version is active.
pub async fn register() -> Result<ServiceWorkerRegistration, OfflineError> {
    let container = container()?;
    JsFuture::from(container.register(SCRIPT_URL)).await?;
    Ok(JsFuture::from(container.ready()?).await?.unchecked_into())
}

/// Sends `message` to `worker` and waits for its reply on a private channel.
async fn ask(worker: &ServiceWorker, message: &JsValue) -> Result<JsValue, OfflineError> {
    let channel = MessageChannel::new()?;
    let (sender, receiver) = oneshot::channel::<JsValue>();
    let mut sender = Some(sender);
    let on_reply = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(sender) = sender.take() {
            let _ = sender.send(event.data());
        }
    });
    channel.port1().set_onmessage(Some(on_reply.as_ref().unchecked_ref()));
    worker.post_message_with_transferable(message, &js_sys::Array::of1(&channel.port2()))?;
    let reply = receiver.await.map_err(|_| OfflineError::Storage("the service worker did not answer".into()));
    channel.port1().close();
    drop(on_reply);
    reply
}

fn request(kind: &str) -> JsValue {
    let message = Object::new();
    let _ = Reflect::set(&message, &"type".into(), &kind.into());
    message.into()
}

fn active(registration: &ServiceWorkerRegistration) -> Result<ServiceWorker, OfflineError> {
    registration.active().ok_or_else(|| OfflineError::Storage("no active service worker".into()))
}

pub async fn shell_status(registration: &ServiceWorkerRegistration) -> Result<ShellStatus, OfflineError> {
    status_after(registration, "status").await
}

/// Sends `kind` and reads the shell's status the worker replies with.
async fn status_after(registration: &ServiceWorkerRegistration, kind: &str) -> Result<ShellStatus, OfflineError> {
    let reply = ask(&active(registration)?, &request(kind)).await?;
    serde_wasm_bindgen::from_value(reply).map_err(|error| OfflineError::Storage(error.to_string()))
}

/// Asks the service worker to keep the main worker for offline use too (a page whose threaded
/// CPU worker cannot start runs it on one thread, and the install leaves it out where the browser
/// has no WebGPU adapter), and gives the shell's status once it has tried.
pub async fn keep_main_worker(registration: &ServiceWorkerRegistration) -> Result<ShellStatus, OfflineError> {
    status_after(registration, "keep-main-worker").await
}

/// How many requests the service worker has let through to the network since it started.
pub async fn network_requests(registration: &ServiceWorkerRegistration) -> Result<u32, OfflineError> {
    let reply = ask(&active(registration)?, &request("network-requests")).await?;
    Ok(Reflect::get(&reply, &"count".into())?.as_f64().unwrap_or(0.0) as u32)
}

/// True when a new version is installed and waiting for this page to let it take over.
pub fn update_waiting(registration: &ServiceWorkerRegistration) -> bool {
    registration.waiting().is_some() && container().is_ok_and(|c| c.controller().is_some())
}

/// Calls `on_waiting` whenever a new version finishes installing while this page runs an older one.
pub fn watch_for_updates(registration: &ServiceWorkerRegistration, on_waiting: impl Fn() + Clone + 'static) {
    let watched = registration.clone();
    let on_update_found = Closure::<dyn FnMut()>::new(move || {
        let Some(installing) = watched.installing() else { return };
        let (worker, on_waiting) = (installing.clone(), on_waiting.clone());
        let on_state = Closure::<dyn FnMut()>::new(move || {
            if worker.state() == web_sys::ServiceWorkerState::Installed && container().is_ok_and(|c| c.controller().is_some()) {
                on_waiting();
            }
        });
        installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
        on_state.forget(); // lives as long as that worker object
    });
    registration.set_onupdatefound(Some(on_update_found.as_ref().unchecked_ref()));
    on_update_found.forget(); // lives as long as the page
}

/// Lets the waiting version take over and reloads the page once it has, so the page never runs
/// files of two versions.
pub fn apply_update(registration: &ServiceWorkerRegistration) -> Result<(), OfflineError> {
    let waiting = registration.waiting().ok_or_else(|| OfflineError::Storage("no update is waiting".into()))?;
    let container = container()?;
    let on_change = Closure::once_into_js(|| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(on_change.unchecked_ref()));
    waiting.post_message(&request("skip-waiting"))?;
    Ok(())
}

/// Asks the browser for an update check now (it also checks on each navigation).
pub async fn check_for_update(registration: &ServiceWorkerRegistration) -> Result<(), OfflineError> {
    JsFuture::from(registration.update()?).await?;
    Ok(())
}

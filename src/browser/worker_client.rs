//! The page's side of the worker: spawn it, talk to it in `protocol` messages.

use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use super::BrowserError;
use crate::protocol::{FromWorker, ToWorker};

/// Trunk names worker files after the binary (no hash), so the page can find it at run time.
const WORKER_URL: &str = "./bgone-worker_loader.js";

pub struct WorkerClient {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl WorkerClient {
    /// `on_message` gets every message; `on_crash` is called if the worker dies.
    pub fn spawn(
        on_message: impl Fn(FromWorker) + 'static,
        on_crash: impl Fn(String) + 'static,
    ) -> Result<Self, BrowserError> {
        let worker = Worker::new(WORKER_URL)?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match serde_wasm_bindgen::from_value::<FromWorker>(event.data()) {
                Ok(message) => on_message(message),
                Err(error) => web_sys::console::error_1(&format!("bgone: bad worker message: {error}").into()),
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            on_crash(event.message());
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self { worker, _on_message: on_message, _on_error: on_error })
    }

    pub fn send(&self, message: &ToWorker) -> Result<(), BrowserError> {
        let value = serde_wasm_bindgen::to_value(message).map_err(|e| BrowserError(e.to_string()))?;
        self.worker.post_message(&value)?;
        Ok(())
    }
}

impl Drop for WorkerClient {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

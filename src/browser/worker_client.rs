//! The page's side of the worker: spawn it, talk to it in `protocol` messages.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use super::BrowserError;
use crate::protocol::{FromWorker, ToWorker};

/// Trunk names worker files after the binary (no hash), so the page can find it at run time.
const WORKER_URL: &str = "./bgone-worker_loader.js";

pub struct WorkerClient {
    worker: Worker,
    /// Messages waiting for the worker to listen; `None` once it does.
    pending: Rc<RefCell<Option<Vec<JsValue>>>>,
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
        let pending: Rc<RefCell<Option<Vec<JsValue>>>> = Rc::new(RefCell::new(Some(Vec::new())));
        let (flush_worker, flush_pending) = (worker.clone(), pending.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match serde_wasm_bindgen::from_value::<FromWorker>(event.data()) {
                Ok(FromWorker::Listening) => {
                    for message in flush_pending.borrow_mut().take().unwrap_or_default() {
                        let _ = flush_worker.post_message(&message);
                    }
                }
                Ok(message) => on_message(message),
                Err(error) => web_sys::console::error_1(&format!("bgone: bad worker message: {error}").into()),
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            on_crash(event.message());
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self { worker, pending, _on_message: on_message, _on_error: on_error })
    }

    pub fn send(&self, message: &ToWorker) -> Result<(), BrowserError> {
        let value = serde_wasm_bindgen::to_value(message).map_err(|e| BrowserError(e.to_string()))?;
        if let Some(pending) = self.pending.borrow_mut().as_mut() {
            pending.push(value);
            return Ok(());
        }
        self.worker.post_message(&value)?;
        Ok(())
    }
}

impl Drop for WorkerClient {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

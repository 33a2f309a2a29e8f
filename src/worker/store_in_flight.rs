//! The offline copy of a download while the browser stores it, so that the one-thread CPU engine
//! can let it finish before a pass. That engine's pass keeps the worker's only thread blocked for
//! seconds, and each step of the store (open the cache, put the copy, record it in IndexedDB)
//! resumes only when the thread is free: with photos dropped as a first visit's page loaded, the
//! copy was stored only after the last of them (13.7 s after the navigation for two photos on the
//! test server without isolation headers), and a page closed before then had no offline copy.

use std::cell::RefCell;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

thread_local! {
    /// Settles when the copy being stored is stored or has failed.
    static STORING: RefCell<Option<Promise>> = const { RefCell::new(None) };
}

/// A store that has begun; [`Self::settle`] when it ends.
pub struct Storing(Option<Function>);

impl Storing {
    pub fn begin() -> Self {
        let mut settle = None;
        // The executor runs within `Promise::new`, so `settle` is set when it returns.
        let promise = Promise::new(&mut |resolve, _| settle = Some(resolve));
        STORING.with(|storing| *storing.borrow_mut() = Some(promise));
        Self(settle)
    }

    pub fn settle(self) {
        if let Some(settle) = self.0 {
            let _ = settle.call0(&JsValue::NULL);
        }
    }
}

/// Waits until the copy being stored, if any, is stored or has failed, but no longer than
/// `limit_ms`: a store that slow (a slow disk, a browser asking the user about storage) is left
/// to finish after the queue. Waits at most once per store.
pub async fn wait(limit_ms: i32) {
    let Some(stored) = STORING.with(|storing| storing.borrow_mut().take()) else { return };
    let limit = Promise::new(&mut |resolve, _| {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        if scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, limit_ms).is_err() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(Promise::race(&Array::of2(&stored, &limit))).await;
}

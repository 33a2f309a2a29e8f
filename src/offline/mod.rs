//! Working offline and proving privacy: the model's own cache, the readiness registry, storage
//! quota and persistence, the service worker, and the count of requests that left the page; and
//! the record of GPUs the network ran correctly on, kept in the same IndexedDB database.
//! `model_cache`, `registry`, `gpu_passes` and `request_log` work in the page and in the worker
//! alike.

mod database;
pub mod gpu_passes;
pub mod model_cache;
pub mod registry;
pub mod request_log;
pub mod service_worker;
pub mod storage;
pub mod unfinished_download;

use wasm_bindgen::JsValue;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OfflineError {
    #[error("This browser does not offer {0}, so the app cannot work offline here.")]
    Unsupported(&'static str),
    #[error(
        "The browser has no room to keep the model for offline use (storage quota exceeded). \
         The app still works while online; free some space or allow more storage for this site."
    )]
    QuotaExceeded,
    #[error("The browser's storage refused the operation ({0}).")]
    Storage(String),
}

impl From<JsValue> for OfflineError {
    fn from(value: JsValue) -> Self {
        let name = js_sys::Reflect::get(&value, &"name".into()).ok().and_then(|n| n.as_string());
        if name.as_deref() == Some("QuotaExceededError") {
            return Self::QuotaExceeded;
        }
        let message = js_sys::Reflect::get(&value, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| value.as_string())
            .unwrap_or_else(|| format!("{value:?}"));
        Self::Storage(message)
    }
}

impl From<idb::Error> for OfflineError {
    fn from(error: idb::Error) -> Self {
        Self::Storage(error.to_string())
    }
}

/// A global property (`caches`, `indexedDB`, `navigator`), from a window or a worker alike.
pub(crate) fn global_property(name: &'static str) -> Result<JsValue, OfflineError> {
    match js_sys::Reflect::get(&js_sys::global(), &name.into()) {
        Ok(value) if !value.is_undefined() && !value.is_null() => Ok(value),
        _ => Err(OfflineError::Unsupported(name)),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_epoch_ms() -> f64 {
    js_sys::Date::now()
}

//! Small typed wrappers around the browser APIs the page uses, so components never handle
//! `JsValue`s.

pub mod blobs;
pub mod body_stream;
pub mod canvas;
pub mod digest;
pub mod gpu_adapter;
pub mod query;
pub mod worker_client;
pub mod zip_all;

/// A browser call failed; the message is shown to the user.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct BrowserError(pub String);

impl From<wasm_bindgen::JsValue> for BrowserError {
    fn from(value: wasm_bindgen::JsValue) -> Self {
        let message = js_sys::Reflect::get(&value, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| value.as_string())
            .unwrap_or_else(|| "the browser refused the operation".into());
        Self(message)
    }
}

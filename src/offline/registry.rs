//! The readiness registry: which models are kept for offline use, in the app's IndexedDB
//! database. Cache Storage holds the bytes; this says what should be there, so the app can tell
//! "never downloaded" from "the browser evicted it".

use wasm_bindgen::JsValue;

use super::OfflineError;
use super::database::{self, MODELS};
use crate::protocol::ModelRecord;

fn to_js(record: &ModelRecord) -> Result<JsValue, OfflineError> {
    serde_wasm_bindgen::to_value(record).map_err(|error| OfflineError::Storage(error.to_string()))
}

pub async fn get(id: &str) -> Result<Option<ModelRecord>, OfflineError> {
    let value = database::get(&MODELS, id).await?;
    value.map(|value| serde_wasm_bindgen::from_value(value).map_err(|error| OfflineError::Storage(error.to_string()))).transpose()
}

pub async fn put(record: &ModelRecord) -> Result<(), OfflineError> {
    database::put(&MODELS, &to_js(record)?).await
}

pub async fn delete(id: &str) -> Result<(), OfflineError> {
    database::delete(&MODELS, id).await
}

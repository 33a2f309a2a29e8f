//! The readiness registry: which models are kept for offline use, in IndexedDB (through the
//! `idb` crate). Cache Storage holds the bytes; this says what should be there, so the app can
//! tell "never downloaded" from "the browser evicted it".

use std::future::IntoFuture;

use idb::{Database, DatabaseEvent, Factory, KeyPath, ObjectStoreParams, TransactionMode};
use wasm_bindgen::JsValue;

use super::OfflineError;
use crate::protocol::ModelRecord;

pub const DATABASE: &str = "bgone";
const VERSION: u32 = 1;
const MODELS: &str = "models";

async fn open() -> Result<Database, OfflineError> {
    let factory = Factory::new().map_err(|_| OfflineError::Unsupported("IndexedDB"))?;
    let mut request = factory.open(DATABASE, Some(VERSION))?;
    request.on_upgrade_needed(|event| {
        let Ok(database) = event.database() else { return };
        if !database.store_names().iter().any(|name| name == MODELS) {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(KeyPath::new_single("id")));
            let _ = database.create_object_store(MODELS, params);
        }
    });
    Ok(request.await?)
}

fn to_js(record: &ModelRecord) -> Result<JsValue, OfflineError> {
    serde_wasm_bindgen::to_value(record).map_err(|error| OfflineError::Storage(error.to_string()))
}

/// Commits a write transaction whose requests were issued, and waits for it to end. The requests
/// are not awaited one by one: in the threaded CPU worker a future resumes in a later task, by
/// which time IndexedDB has already committed an idle transaction, and an explicit commit then
/// fails ("The transaction has finished"). A request that fails aborts the transaction, which is
/// an error here.
async fn finish(transaction: idb::Transaction) -> Result<(), OfflineError> {
    let ended = transaction.commit()?.await?;
    if ended.is_aborted() {
        return Err(OfflineError::Storage("the browser aborted the write".into()));
    }
    Ok(())
}

pub async fn get(id: &str) -> Result<Option<ModelRecord>, OfflineError> {
    let database = open().await?;
    let transaction = database.transaction(&[MODELS], TransactionMode::ReadOnly)?;
    let request = transaction.object_store(MODELS)?.get(JsValue::from_str(id))?;
    // Listen for the transaction's end before awaiting anything (see `finish`).
    let finished = transaction.into_future();
    let value = request.await?;
    finished.await?;
    database.close();
    value.map(|value| serde_wasm_bindgen::from_value(value).map_err(|error| OfflineError::Storage(error.to_string()))).transpose()
}

pub async fn put(record: &ModelRecord) -> Result<(), OfflineError> {
    let database = open().await?;
    let transaction = database.transaction(&[MODELS], TransactionMode::ReadWrite)?;
    let _request = transaction.object_store(MODELS)?.put(&to_js(record)?, None)?;
    finish(transaction).await?;
    database.close();
    Ok(())
}

pub async fn delete(id: &str) -> Result<(), OfflineError> {
    let database = open().await?;
    let transaction = database.transaction(&[MODELS], TransactionMode::ReadWrite)?;
    let _request = transaction.object_store(MODELS)?.delete(JsValue::from_str(id))?;
    finish(transaction).await?;
    database.close();
    Ok(())
}

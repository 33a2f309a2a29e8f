//! The app's IndexedDB database (through the `idb` crate): its stores, opened and upgraded in one
//! place for every module that keeps records in it.

use std::future::IntoFuture;

use idb::{Database, DatabaseEvent, Factory, KeyPath, ObjectStoreParams, TransactionMode};
use wasm_bindgen::JsValue;

use super::OfflineError;

pub const DATABASE: &str = "bgone";
/// 1: `models`. 2: `gpu-passes` added.
const VERSION: u32 = 2;
/// The readiness registry (`registry`), keyed by the model's id.
pub(crate) const MODELS: &str = "models";
/// The GPUs the network ran correctly on (`gpu_passes`), keyed by the adapter's description.
pub(crate) const GPU_PASSES: &str = "gpu-passes";

/// Each store and the field its records are keyed by.
const STORES: [(&str, &str); 2] = [(MODELS, "id"), (GPU_PASSES, "key")];

async fn open() -> Result<Database, OfflineError> {
    let factory = Factory::new().map_err(|_| OfflineError::Unsupported("IndexedDB"))?;
    let mut request = factory.open(DATABASE, Some(VERSION))?;
    request.on_upgrade_needed(|event| {
        let Ok(database) = event.database() else { return };
        let existing = database.store_names();
        for (store, key) in STORES {
            if !existing.iter().any(|name| name == store) {
                let mut params = ObjectStoreParams::new();
                params.key_path(Some(KeyPath::new_single(key)));
                let _ = database.create_object_store(store, params);
            }
        }
    });
    Ok(request.await?)
}

/// The record under `key` in `store`, if there is one.
pub(crate) async fn get(store: &str, key: &str) -> Result<Option<JsValue>, OfflineError> {
    let database = open().await?;
    let transaction = database.transaction(&[store], TransactionMode::ReadOnly)?;
    let request = transaction.object_store(store)?.get(JsValue::from_str(key))?;
    // Listen for the transaction's end before awaiting anything (see `finish`).
    let finished = transaction.into_future();
    let value = request.await?;
    finished.await?;
    database.close();
    Ok(value)
}

/// Stores `record` in `store` (under the key it carries), replacing any before it.
pub(crate) async fn put(store: &str, record: &JsValue) -> Result<(), OfflineError> {
    let database = open().await?;
    let transaction = database.transaction(&[store], TransactionMode::ReadWrite)?;
    let _request = transaction.object_store(store)?.put(record, None)?;
    finish(transaction).await?;
    database.close();
    Ok(())
}

pub(crate) async fn delete(store: &str, key: &str) -> Result<(), OfflineError> {
    let database = open().await?;
    let transaction = database.transaction(&[store], TransactionMode::ReadWrite)?;
    let _request = transaction.object_store(store)?.delete(JsValue::from_str(key))?;
    finish(transaction).await?;
    database.close();
    Ok(())
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

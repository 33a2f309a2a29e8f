//! The app's IndexedDB databases (through the `idb` crate): opened, created and read or written
//! in one place for every module that keeps records in them.

use std::future::IntoFuture;

use idb::{Database, DatabaseEvent, Factory, KeyPath, ObjectStoreParams, TransactionMode};
use wasm_bindgen::JsValue;

use super::OfflineError;

/// One IndexedDB database of the app with its one store, keyed by one field of its records.
pub(crate) struct Store {
    pub database: &'static str,
    pub version: u32,
    pub store: &'static str,
    pub key: &'static str,
}

/// The readiness registry (`registry`), keyed by the model's id.
pub(crate) const MODELS: Store = Store { database: "bgone", version: 1, store: "models", key: "id" };
/// The GPUs the network ran correctly on (`gpu_passes`), keyed by the adapter's description. A
/// database of its own, not a second store in `bgone`: that would take `bgone` to version 2, and
/// a page of an older version still open in another tab could then no longer open it.
pub(crate) const GPU_PASSES: Store = Store { database: "bgone-gpu-passes", version: 1, store: "passes", key: "key" };

async fn open(store: &Store) -> Result<Database, OfflineError> {
    let factory = Factory::new().map_err(|_| OfflineError::Unsupported("IndexedDB"))?;
    let mut request = factory.open(store.database, Some(store.version))?;
    let (name, key) = (store.store, store.key);
    request.on_upgrade_needed(move |event| {
        let Ok(database) = event.database() else { return };
        if !database.store_names().iter().any(|existing| existing == name) {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(KeyPath::new_single(key)));
            let _ = database.create_object_store(name, params);
        }
    });
    Ok(request.await?)
}

/// The record under `key` in `store`, if there is one.
pub(crate) async fn get(store: &Store, key: &str) -> Result<Option<JsValue>, OfflineError> {
    let database = open(store).await?;
    let transaction = database.transaction(&[store.store], TransactionMode::ReadOnly)?;
    let request = transaction.object_store(store.store)?.get(JsValue::from_str(key))?;
    // Listen for the transaction's end before awaiting anything (see `finish`).
    let finished = transaction.into_future();
    let value = request.await?;
    finished.await?;
    database.close();
    Ok(value)
}

/// Stores `record` in `store` (under the key it carries), replacing any before it.
pub(crate) async fn put(store: &Store, record: &JsValue) -> Result<(), OfflineError> {
    let database = open(store).await?;
    let transaction = database.transaction(&[store.store], TransactionMode::ReadWrite)?;
    let _request = transaction.object_store(store.store)?.put(record, None)?;
    finish(transaction).await?;
    database.close();
    Ok(())
}

pub(crate) async fn delete(store: &Store, key: &str) -> Result<(), OfflineError> {
    let database = open(store).await?;
    let transaction = database.transaction(&[store.store], TransactionMode::ReadWrite)?;
    let _request = transaction.object_store(store.store)?.delete(JsValue::from_str(key))?;
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

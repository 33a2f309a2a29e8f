//! Where the worker gets the weights: the offline copy in Cache Storage when it is there and
//! intact, else the network (then kept for offline use). Every step is reported to the page as
//! a `ModelStore` message, which drives its "Ready to work offline" indicator.

use bgone_core::model::{ModelManifest, VerifiedWeights};
use bgone_web::browser::digest;
use bgone_web::offline::{OfflineError, model_cache, now_epoch_ms, registry, unfinished_download};
use bgone_web::protocol::{FromWorker, ModelRecord, ModelStoreState};

use crate::model_fetch::{self, FetchError};
#[cfg(not(feature = "threads"))]
use crate::store_in_flight::Storing;
use crate::{beside, startup_steps};

/// Tells the page where the offline copy stands.
pub fn report(send: &impl Fn(&FromWorker), state: ModelStoreState, record: Option<ModelRecord>, message: Option<String>) {
    send(&FromWorker::ModelStore { state, record, message });
}

fn is_online() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"onLine".into()))
        .ok()
        .and_then(|online| online.as_bool())
        .unwrap_or(true)
}

/// What the cache holds for this model.
pub enum Cached {
    Intact(VerifiedWeights, ModelRecord),
    /// Not there; `Some(reason)` when the registry says it should be (evicted or damaged).
    Absent(Option<String>),
}

fn record_for(manifest: &ModelManifest, cached_at: f64) -> ModelRecord {
    ModelRecord {
        id: manifest.id.clone(),
        version: model_cache::version(manifest),
        file: manifest.file.clone(),
        bytes: manifest.bytes,
        sha256: manifest.sha256.clone(),
        cached_at,
        verified_at: now_epoch_ms(),
    }
}

/// Reads the offline copy and checks it against the manifest's checksum. A damaged copy is deleted.
pub async fn check_cached(manifest: &ModelManifest) -> Cached {
    // The registry (IndexedDB) is asked while the cache is read, not before: tens of ms less.
    let id = manifest.id.clone();
    let registry_answer = beside::begin(async move { registry::get(&id).await.ok().flatten() });
    let mut check = digest::StreamingCheck::new(manifest);
    let read = model_cache::read(manifest, |read| check.feed(read)).await;
    startup_steps::step("read");
    let registered = registry_answer.await.flatten().filter(|r| r.sha256 == manifest.sha256);
    match read {
        Ok(Some(bytes)) => match check.finish(bytes) {
            Ok(bytes) => {
                startup_steps::step("check");
                let record = record_for(manifest, registered.map_or_else(now_epoch_ms, |r| r.cached_at));
                let _ = registry::put(&record).await;
                startup_steps::step("record");
                Cached::Intact(bytes, record)
            }
            Err(error) => {
                let _ = model_cache::delete(manifest).await;
                Cached::Absent(Some(format!("The offline copy of the model was damaged and has been removed ({error}).")))
            }
        },
        Ok(None) if registered.is_some() => {
            Cached::Absent(Some("The browser removed the offline copy of the model (it does this when storage runs low).".into()))
        }
        Ok(None) => Cached::Absent(None),
        Err(error) => Cached::Absent(Some(error.to_string())),
    }
}

/// Keeps verified weights for offline use and records them in the registry.
pub async fn store(manifest: &ModelManifest, response: web_sys::Response) -> Result<ModelRecord, OfflineError> {
    model_cache::put(manifest, response).await?;
    let record = record_for(manifest, now_epoch_ms());
    registry::put(&record).await?;
    let _ = model_cache::delete_other_versions(manifest).await;
    Ok(record)
}

/// Downloads the weights (with progress) and has them stored, without waiting for the store: the
/// weights go on to the engine while the browser writes its copy (88 MB, which took 0.3-0.9 s on
/// a first visit here, and longer on a slow disk, before the first photo could start). The page
/// is told when the copy is stored (then it says the app is ready offline) or why it could not
/// be. Failing to store is reported, not fatal: the app works online without an offline copy.
pub async fn download_and_store(
    manifest: &ModelManifest,
    send: &(impl Fn(&FromWorker) + Clone + 'static),
    evicted: Option<String>,
) -> Result<VerifiedWeights, FetchError> {
    report(send, ModelStoreState::Downloading, None, evicted.clone());
    let weights = match model_fetch::weights(manifest, |loaded, total| send(&FromWorker::ModelProgress { loaded, total })).await {
        Ok(weights) => weights,
        Err(error) => {
            let state = if evicted.is_some() { ModelStoreState::Evicted } else { ModelStoreState::Missing };
            let message = match (&evicted, is_online()) {
                (Some(reason), false) => format!("{reason} It downloads again on your next online visit."),
                (Some(reason), true) => format!("{reason} Downloading it again failed: {error}"),
                (None, false) => "The model has not been downloaded yet; the app needs one online visit.".into(),
                (None, true) => error.to_string(),
            };
            report(send, state, None, Some(message));
            return Err(error);
        }
    };
    let response = model_cache::response_of(weights.as_bytes());
    let (manifest, send) = (manifest.clone(), send.clone());
    #[cfg(not(feature = "threads"))]
    let storing = Storing::begin();
    wasm_bindgen_futures::spawn_local(async move {
        let stored = async { store(&manifest, response?).await };
        match stored.await {
            Ok(record) => report(&send, ModelStoreState::Stored, Some(record), None),
            Err(error) => report(&send, ModelStoreState::Missing, None, Some(error.to_string())),
        }
        #[cfg(not(feature = "threads"))]
        storing.settle();
    });
    Ok(weights)
}

/// The weights for the engine: from the offline copy, or downloaded (and kept).
pub async fn weights(
    manifest: &ModelManifest,
    send: &(impl Fn(&FromWorker) + Clone + 'static),
) -> Result<VerifiedWeights, FetchError> {
    match check_cached(manifest).await {
        Cached::Intact(bytes, record) => {
            send(&FromWorker::ModelProgress { loaded: manifest.bytes, total: manifest.bytes });
            report(send, ModelStoreState::Stored, Some(record), None);
            Ok(bytes)
        }
        Cached::Absent(evicted) => {
            if let Some(reason) = &evicted {
                report(send, ModelStoreState::Evicted, None, Some(reason.clone()));
            }
            let downloaded = download_and_store(manifest, send, evicted).await;
            startup_steps::step("download");
            downloaded
        }
    }
}

/// "Check offline readiness": re-verifies the offline copy; downloads it again if it is gone
/// and the page says the browser is online.
pub async fn recheck(manifest: &ModelManifest, send: &(impl Fn(&FromWorker) + Clone + 'static), online: bool) {
    match check_cached(manifest).await {
        Cached::Intact(_, record) => report(send, ModelStoreState::Stored, Some(record), None),
        Cached::Absent(evicted) => {
            let state = if evicted.is_some() { ModelStoreState::Evicted } else { ModelStoreState::Missing };
            let waiting = evicted.as_ref().map(|reason| format!("{reason} It downloads again on your next online visit."));
            report(send, state, None, if online { evicted.clone() } else { waiting });
            if online {
                let _ = download_and_store(manifest, send, evicted).await;
            }
        }
    }
}

/// "Delete model": removes the offline copy, its registry row and any part of a download kept
/// to resume.
pub async fn delete(manifest: &ModelManifest, send: &impl Fn(&FromWorker)) {
    let deleted = async {
        model_cache::delete(manifest).await?;
        unfinished_download::discard().await;
        registry::delete(&manifest.id).await
    };
    match deleted.await {
        Ok(()) => report(
            send,
            ModelStoreState::Missing,
            None,
            Some("The offline copy of the model was deleted. It downloads again when you next use the app online.".into()),
        ),
        Err(error) => report(send, ModelStoreState::Missing, None, Some(error.to_string())),
    }
}

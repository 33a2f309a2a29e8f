//! The model weights in Cache Storage, in a cache of their own named after the model's version
//! (`bgone-model-<id>-<sha256 prefix>`), apart from the app shell's cache: an app update never
//! downloads the weights again, and a new model version never mixes with an old one.

use bgone_core::model::ModelManifest;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Cache, CacheStorage, Response};

use super::{OfflineError, global_property};
use crate::browser::body_stream;

pub const CACHE_PREFIX: &str = "bgone-model-";

/// The cache that holds this version of the model.
pub fn cache_name(manifest: &ModelManifest) -> String {
    format!("{CACHE_PREFIX}{}-{}", manifest.id, version(manifest))
}

/// The version that names the cache: the start of the weights' sha256.
pub fn version(manifest: &ModelManifest) -> String {
    manifest.sha256.chars().take(12).collect()
}

/// Where the weights are served from, relative to the app (also their key in the cache).
pub fn weights_url(manifest: &ModelManifest) -> String {
    format!("models/{}", manifest.file)
}

pub(crate) fn storage() -> Result<CacheStorage, OfflineError> {
    Ok(global_property("caches")?.unchecked_into())
}

pub(crate) async fn open(name: &str) -> Result<Cache, OfflineError> {
    Ok(JsFuture::from(storage()?.open(name)).await?.unchecked_into())
}

/// The cached bytes, or `None` if this version is not cached. `on_chunk` sees the bytes read so
/// far as they arrive (to check them while the rest is read).
pub async fn read(manifest: &ModelManifest, on_chunk: impl FnMut(&[u8])) -> Result<Option<Vec<u8>>, OfflineError> {
    let Some(response) = entry(&cache_name(manifest), manifest).await? else { return Ok(None) };
    let Some(body) = response.body() else { return Ok(None) };
    Ok(Some(body_stream::read_all(body, manifest.bytes as usize, on_chunk).await?))
}

/// The weights' entry in the cache `name`, if that cache and the entry exist (asking first
/// whether the cache exists keeps `open` from making an empty one).
pub(crate) async fn entry(name: &str, manifest: &ModelManifest) -> Result<Option<Response>, OfflineError> {
    if !JsFuture::from(storage()?.has(name)).await?.as_bool().unwrap_or(false) {
        return Ok(None);
    }
    let hit = JsFuture::from(open(name).await?.match_with_str(&weights_url(manifest))).await?;
    Ok(hit.dyn_into().ok())
}

/// The weights as a response to store: a copy in the browser's memory, made at once, so that the
/// weights themselves may go on to the engine while [`put`] writes it. (A body streamed from the
/// weights a piece at a time, without the copy, was tried: the threaded worker's thread is busy
/// in the first pass, so the stream was read only after it, and a page closed soon after its
/// first cutout lost the offline copy.)
///
/// The body is a `Blob`. Cache Storage takes a blob body whole, from the browser's blob store,
/// without this worker's thread reading it (a body made from bytes is read on this thread piece
/// by piece): on a first visit with two photos given as the page loaded
/// (`FIRST=2 node tests/bench/return-probe.mjs`, four visits each), the copy was stored 0.15-0.18
/// s after the engine was ready, against 0.27-0.87 s with a body of bytes read while the pool ran
/// the pass, and 5.9-7.8 s (after the second photo) while the pass kept this thread blocked.
///
/// The blob is made from a view on the WebAssembly memory where the browser takes one (the
/// one-thread worker's memory); the threaded worker's memory is shared, which `new Blob` refuses,
/// so it gets a JavaScript copy first, garbage once the blob has its own.
pub fn response_of(weights: &[u8]) -> Result<Response, OfflineError> {
    Ok(Response::new_with_opt_blob(Some(&blob_of(weights)?))?)
}

/// A copy of `bytes` in the browser's blob store (see [`response_of`]).
pub(crate) fn blob_of(bytes: &[u8]) -> Result<Blob, OfflineError> {
    // SAFETY: the view lives only for the constructor's call, and nothing can move or grow the
    // memory under it meanwhile: no Rust code runs until the constructor has copied the bytes.
    let view = unsafe { Uint8Array::view(bytes) };
    Ok(Blob::new_with_u8_array_sequence(&Array::of1(&view))
        .or_else(|_| Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(bytes))))?)
}

/// Stores `response` (from [`response_of`], of already verified weights) as this version's
/// weights. A full quota comes back as [`OfflineError::QuotaExceeded`], and nothing half-written
/// is left behind.
pub async fn put(manifest: &ModelManifest, response: Response) -> Result<(), OfflineError> {
    let name = cache_name(manifest);
    let stored = async {
        JsFuture::from(open(&name).await?.put_with_str(&weights_url(manifest), &response)).await?;
        Ok::<_, OfflineError>(())
    };
    if let Err(error) = stored.await {
        let _ = delete(manifest).await;
        return Err(error);
    }
    Ok(())
}

/// Removes this version's cache. Returns whether there was one.
pub async fn delete(manifest: &ModelManifest) -> Result<bool, OfflineError> {
    Ok(JsFuture::from(storage()?.delete(&cache_name(manifest))).await?.as_bool().unwrap_or(false))
}

/// Removes the caches of other model versions (left by an earlier version of the app).
pub async fn delete_other_versions(manifest: &ModelManifest) -> Result<Vec<String>, OfflineError> {
    let keep = cache_name(manifest);
    let storage = storage()?;
    let names = js_sys::Array::from(&JsFuture::from(storage.keys()).await?);
    let mut deleted = Vec::new();
    for name in names.iter().filter_map(|name| name.as_string()) {
        if name.starts_with(&format!("{CACHE_PREFIX}{}-", manifest.id)) && name != keep {
            JsFuture::from(storage.delete(&name)).await?;
            deleted.push(name);
        }
    }
    Ok(deleted)
}

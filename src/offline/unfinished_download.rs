//! A model download the network broke off, kept so that the next attempt (the page's retry when
//! the connection is back, or a later visit) asks the server only for the rest, an HTTP range,
//! instead of all 88 MB again: what a user on a train or a plane's Wi-Fi needs.
//!
//! It lives in a cache of its own (`bgone-download-<id>-<version>`), apart from the model's cache,
//! which only ever holds verified weights; the weights it grows into are checked against the
//! manifest like any download. It is kept with the server's validator of the file (a strong ETag,
//! else Last-Modified): the rest is asked for with `If-Range`, so a server whose file changed
//! meanwhile answers with the whole new file, and the kept part is dropped. From a server that
//! does not say it answers ranges nothing is kept, and one that answers a range with the whole
//! file (200) starts the download over, as before.

use bgone_core::model::ModelManifest;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Response, ResponseInit};

use super::{OfflineError, model_cache};
use crate::browser::body_stream;

pub const CACHE_PREFIX: &str = "bgone-download-";
/// The header the kept part's validator is stored under.
const VALIDATOR: &str = "X-Bgone-Validator";

fn cache_name(manifest: &ModelManifest) -> String {
    format!("{CACHE_PREFIX}{}-{}", manifest.id, model_cache::version(manifest))
}

/// The validator to resume `response`'s body with: a strong ETag (a weak one cannot be used in
/// `If-Range`), else Last-Modified; none if the server gave neither, or does not say it answers
/// ranges (`Accept-Ranges: bytes`), since keeping a part for such a server writes it for nothing.
pub fn validator_of(response: &Response) -> Option<String> {
    let headers = response.headers();
    if headers.get("Accept-Ranges").ok().flatten().is_none_or(|ranges| !ranges.eq_ignore_ascii_case("bytes")) {
        return None;
    }
    let etag = headers.get("ETag").ok().flatten().filter(|etag| !etag.starts_with("W/"));
    etag.or_else(|| headers.get("Last-Modified").ok().flatten())
}

/// Appends the kept part onto `bytes` (empty) and gives its validator; `None`, with `bytes` left
/// empty, if there is none or it cannot be read.
pub async fn resume_into(manifest: &ModelManifest, bytes: &mut Vec<u8>, on_chunk: impl FnMut(&[u8])) -> Option<String> {
    let response = model_cache::entry(&cache_name(manifest), manifest).await.ok()??;
    let validator = response.headers().get(VALIDATOR).ok().flatten()?;
    let read = body_stream::append_all(response.body()?, bytes, on_chunk).await;
    // A part longer than the file is not one of it.
    if read.is_err() || bytes.len() >= manifest.bytes as usize {
        bytes.clear();
        discard().await;
        return None;
    }
    Some(validator)
}

/// Keeps `bytes`, the start of the file the server described by `validator`, in place of any
/// part kept before. Best effort: a download that cannot be kept starts over next time.
pub async fn keep(manifest: &ModelManifest, bytes: &[u8], validator: &str) -> Result<(), OfflineError> {
    let headers = Headers::new()?;
    headers.set(VALIDATOR, validator)?;
    let init = ResponseInit::new();
    init.set_headers(&headers);
    let response = Response::new_with_opt_blob_and_init(Some(&model_cache::blob_of(bytes)?), &init)?;
    let cache = model_cache::open(&cache_name(manifest)).await?;
    JsFuture::from(cache.put_with_str(&model_cache::weights_url(manifest), &response)).await?;
    Ok(())
}

/// Drops every kept part (this model's, and any left by an earlier version of it).
pub async fn discard() {
    let Ok(storage) = model_cache::storage() else { return };
    let Ok(names) = JsFuture::from(storage.keys()).await else { return };
    for name in js_sys::Array::from(&names).iter().filter_map(|name| name.as_string()) {
        if name.starts_with(CACHE_PREFIX) {
            let _ = JsFuture::from(storage.delete(&name)).await;
        }
    }
}

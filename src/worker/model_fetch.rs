//! Fetching the manifest and the weights from the app's own origin, with progress.

use bgone_core::model::{ModelManifest, VerifiedWeights};
use bgone_web::browser::{body_stream, digest};
use bgone_web::offline::unfinished_download;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response, WorkerGlobalScope};

pub const MANIFEST_URL: &str = "models/isnet-medium.json";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("The model could not be downloaded ({0}). Check the connection: the page tries again by itself while it is open.")]
    Network(String),
    #[error(transparent)]
    Manifest(#[from] bgone_core::model::ManifestError),
}

fn js_error(value: JsValue) -> FetchError {
    FetchError::Network(value.as_string().unwrap_or_else(|| format!("{value:?}")))
}

/// `url`, or with `rest: Some((from, validator))` the file from byte `from` on if it is still the
/// one `validator` describes (`Range` and `If-Range`): the server then answers the rest (206) or
/// the whole file (200).
async fn response(url: &str, rest: Option<(usize, &str)>) -> Result<Response, FetchError> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    let asked = match rest {
        None => scope.fetch_with_str(url),
        Some((from, validator)) => {
            let headers = Headers::new().map_err(js_error)?;
            headers.set("Range", &format!("bytes={from}-")).map_err(js_error)?;
            headers.set("If-Range", validator).map_err(js_error)?;
            let init = RequestInit::new();
            init.set_headers(&headers);
            scope.fetch_with_str_and_init(url, &init)
        }
    };
    let response: Response = JsFuture::from(asked).await.map_err(js_error)?.unchecked_into();
    if !response.ok() {
        return Err(FetchError::Network(format!("{url}: HTTP {}", response.status())));
    }
    Ok(response)
}

/// Whether `response` is the rest of the file from byte `from` (a 206 whose Content-Range
/// starts there).
fn continues_at(response: &Response, from: usize) -> bool {
    let range = response.headers().get("Content-Range").ok().flatten().unwrap_or_default();
    response.status() == 206 && range.strip_prefix("bytes ").and_then(|r| r.split('-').next()) == Some(from.to_string().as_str())
}

pub async fn manifest() -> Result<ModelManifest, FetchError> {
    let text = JsFuture::from(response(MANIFEST_URL, None).await?.text().map_err(js_error)?).await.map_err(js_error)?;
    Ok(ModelManifest::from_json(&text.as_string().unwrap_or_default())?)
}

/// The weights, streamed so the page can show MB and percent, and checked against the manifest
/// as they arrive. A download the network broke off before is resumed where it stopped
/// (`unfinished_download`); one that breaks off now is kept for the next attempt.
pub async fn weights(manifest: &ModelManifest, mut progress: impl FnMut(u64, u64)) -> Result<VerifiedWeights, FetchError> {
    let url = format!("models/{}", manifest.file);
    let total = manifest.bytes as usize;
    let mut bytes = Vec::with_capacity(total);
    let mut check = digest::StreamingCheck::new(manifest);
    let kept = unfinished_download::resume_into(manifest, &mut bytes, |read| check.feed(read)).await;
    let response = response(&url, kept.as_deref().map(|validator| (bytes.len(), validator))).await?;
    if kept.is_some() && !continues_at(&response, bytes.len()) {
        // The whole file (changed, or a server without ranges): from the start.
        bytes.clear();
        check = digest::StreamingCheck::new(manifest);
    }
    let resumed = bytes.len();
    if resumed > 0 {
        web_sys::console::info_1(&format!("bgone worker: the model's download resumes at {:.1} MB", resumed as f64 / 1e6).into());
    }
    let validator = if resumed > 0 { kept } else { unfinished_download::validator_of(&response) };
    let body = response.body().ok_or_else(|| FetchError::Network("empty response".into()))?;
    // Every 1 MB is enough for a smooth bar without flooding the page with messages.
    let mut reported = 0usize;
    progress(resumed as u64, manifest.bytes);
    let read = body_stream::append_all(body, &mut bytes, |read| {
        check.feed(read);
        if read.len() - reported >= 1 << 20 {
            reported = read.len();
            progress(read.len() as u64, manifest.bytes);
        }
    })
    .await;
    if let Err(error) = read {
        if let Some(validator) = validator.filter(|_| bytes.len() > resumed && bytes.len() < total) {
            match unfinished_download::keep(manifest, &bytes, &validator).await {
                Ok(()) => web_sys::console::info_1(
                    &format!(
                        "bgone worker: {:.1} MB of the model kept; the download resumes from there",
                        bytes.len() as f64 / 1e6
                    )
                    .into(),
                ),
                Err(keep_error) => {
                    web_sys::console::warn_1(&format!("bgone worker: the part downloaded could not be kept: {keep_error}").into())
                }
            }
        }
        return Err(js_error(error));
    }
    progress(bytes.len() as u64, manifest.bytes);
    unfinished_download::discard().await;
    Ok(check.finish(bytes)?)
}

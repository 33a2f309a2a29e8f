//! Fetching the manifest and the weights from the app's own origin, with progress.

use bgone_core::model::{ModelManifest, VerifiedWeights};
use bgone_web::browser::{body_stream, digest};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Response, WorkerGlobalScope};

pub const MANIFEST_URL: &str = "models/isnet-medium.json";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("The model could not be downloaded ({0}). Check the connection and reload the page.")]
    Network(String),
    #[error(transparent)]
    Manifest(#[from] bgone_core::model::ManifestError),
}

fn js_error(value: JsValue) -> FetchError {
    FetchError::Network(value.as_string().unwrap_or_else(|| format!("{value:?}")))
}

async fn response(url: &str) -> Result<Response, FetchError> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: Response = JsFuture::from(scope.fetch_with_str(url)).await.map_err(js_error)?.unchecked_into();
    if !response.ok() {
        return Err(FetchError::Network(format!("{url}: HTTP {}", response.status())));
    }
    Ok(response)
}

pub async fn manifest() -> Result<ModelManifest, FetchError> {
    let text = JsFuture::from(response(MANIFEST_URL).await?.text().map_err(js_error)?).await.map_err(js_error)?;
    Ok(ModelManifest::from_json(&text.as_string().unwrap_or_default())?)
}

/// The weights, streamed so the page can show MB and percent, and checked against the manifest
/// as they arrive.
pub async fn weights(manifest: &ModelManifest, mut progress: impl FnMut(u64, u64)) -> Result<VerifiedWeights, FetchError> {
    let url = format!("models/{}", manifest.file);
    let body = response(&url).await?.body().ok_or_else(|| FetchError::Network("empty response".into()))?;
    // Every 1 MB is enough for a smooth bar without flooding the page with messages.
    let mut reported = 0usize;
    let mut check = digest::StreamingCheck::new(manifest);
    let bytes = body_stream::read_all(body, manifest.bytes as usize, |read| {
        check.feed(read);
        if read.len() - reported >= 1 << 20 {
            reported = read.len();
            progress(read.len() as u64, manifest.bytes);
        }
    })
    .await
    .map_err(js_error)?;
    progress(bytes.len() as u64, manifest.bytes);
    Ok(check.finish(bytes)?)
}

//! Checking the model's weights with the browser's own SHA-256 (SubtleCrypto). It is native
//! code: on this project's machine it hashes the 88 MB model in a fraction of the 1.1-1.5 s that
//! sha2 takes in WebAssembly, and that check is on the path of every start-up from the cache.

use bgone_core::model::{ManifestError, ModelManifest, VerifiedWeights};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::SubtleCrypto;

/// `weights` checked against `manifest`; with sha2 where the browser has no SubtleCrypto (a page
/// served over plain http from another host than localhost).
pub async fn verify(manifest: &ModelManifest, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
    match sha256(&weights).await {
        Some(digest) => manifest.verified_by_digest(weights, &digest),
        None => manifest.verified(weights),
    }
}

async fn sha256(bytes: &[u8]) -> Option<Vec<u8>> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok().filter(|subtle| subtle.is_object())?;
    let subtle: SubtleCrypto = subtle.unchecked_into();
    // A copy outside WebAssembly memory: digest() refuses a view of shared memory, which the
    // threaded worker's memory is.
    let copy = Uint8Array::from(bytes);
    let digest = JsFuture::from(subtle.digest_with_str_and_js_u8_array("SHA-256", &copy).ok()?).await.ok()?;
    Some(Uint8Array::new(&digest).to_vec())
}

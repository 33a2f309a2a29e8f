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
///
/// Where the manifest lists the sha256 of each chunk of the file, each chunk is hashed on its
/// own: SubtleCrypto needs a copy outside WebAssembly memory (and makes one more of its own), so
/// hashing the whole file at once held two extra 88 MB copies in the worker at start-up, the
/// moment of the page's peak memory; chunk by chunk they are a few MB.
pub async fn verify(manifest: &ModelManifest, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
    let chunks = manifest.chunk_ranges();
    if !chunks.is_empty() {
        let mut digests = Vec::with_capacity(chunks.len());
        for range in chunks {
            let Some(digest) = weights.get(range).map(sha256) else { break };
            match digest.await {
                Some(digest) => digests.push(digest),
                None => return manifest.verified(weights),
            }
        }
        return manifest.verified_by_chunk_digests(weights, &digests);
    }
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

//! Checking the model's weights with the browser's own SHA-256 (SubtleCrypto). It is native
//! code: on this project's machine it hashes the 88 MB model in a fraction of the 1.1-1.5 s that
//! sha2 takes in WebAssembly, and that check is on the path of every start-up from the cache.

// Every function here is `#[inline]`: only the worker calls them, and compiled into this library's
// own object code they drew the WebGPU compiler's registrations into the page's WebAssembly (1.1 MB
// grew to 8.9 MB, and the page took 0.35 s longer to start). Inline, they are compiled only where
// they are called.

use std::ops::Range;

use bgone_core::model::{ManifestError, ModelManifest, VerifiedWeights};
use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::SubtleCrypto;

/// `weights` checked against `manifest`; with sha2 where the browser has no SubtleCrypto (a page
/// served over plain http from another host than localhost).
#[inline]
pub async fn verify(manifest: &ModelManifest, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
    StreamingCheck::new(manifest).finish(weights).await
}

/// The check of weights that are still arriving: [`StreamingCheck::feed`] is called with the
/// bytes read so far, and starts hashing each of the manifest's chunks as soon as its last byte
/// is in, so the hashing (native code off this thread) overlaps the rest of the read instead of
/// following it.
///
/// Where the manifest lists the sha256 of each chunk of the file, each chunk is hashed on its
/// own: SubtleCrypto needs a copy outside WebAssembly memory (and makes one more of its own), so
/// hashing the whole file at once held two extra 88 MB copies in the worker at start-up, the
/// moment of the page's peak memory; chunk by chunk they are a few MB.
pub struct StreamingCheck<'a> {
    manifest: &'a ModelManifest,
    chunks: Vec<Range<usize>>,
    /// The digests started so far, in chunk order; `None` once SubtleCrypto has refused one.
    started: Option<Vec<Promise>>,
}

impl<'a> StreamingCheck<'a> {
    #[inline]
    pub fn new(manifest: &'a ModelManifest) -> Self {
        Self { manifest, chunks: manifest.chunk_ranges(), started: Some(Vec::new()) }
    }

    /// Starts the digests of the chunks that `read` (the file so far) now holds in full.
    #[inline]
    pub fn feed(&mut self, read: &[u8]) {
        let Some(started) = &mut self.started else { return };
        while let Some(chunk) = self.chunks.get(started.len()).and_then(|range| read.get(range.clone())) {
            match start_sha256(chunk) {
                Some(digest) => started.push(digest),
                None => {
                    self.started = None;
                    return;
                }
            }
        }
    }

    /// As [`Self::feed`], for a piece of the file read on its own (a slice of a cached blob):
    /// when it is exactly the next chunk, it is hashed as it is, without a copy out of
    /// WebAssembly memory. Other pieces are left to [`Self::finish`].
    #[inline]
    pub fn feed_piece(&mut self, offset: usize, piece: &Uint8Array) {
        let Some(started) = &mut self.started else { return };
        if self.chunks.get(started.len()) != Some(&(offset..offset + piece.length() as usize)) {
            return;
        }
        match start_sha256_of(piece) {
            Some(digest) => started.push(digest),
            None => self.started = None,
        }
    }

    /// The weights, once every chunk's digest (or the whole file's) matches the manifest.
    #[inline]
    pub async fn finish(mut self, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
        let manifest = self.manifest;
        if self.chunks.is_empty() {
            return match sha256(&weights).await {
                Some(digest) => manifest.verified_by_digest(weights, &digest),
                None => manifest.verified(weights),
            };
        }
        self.feed(&weights);
        let Some(started) = self.started else { return manifest.verified(weights) };
        let mut digests = Vec::with_capacity(started.len());
        for digest in started {
            match JsFuture::from(digest).await {
                Ok(digest) => digests.push(Uint8Array::new(&digest).to_vec()),
                Err(_) => return manifest.verified(weights),
            }
        }
        manifest.verified_by_chunk_digests(weights, &digests)
    }
}

/// The SHA-256 of `bytes`, started: `None` where the browser has no SubtleCrypto.
#[inline]
fn start_sha256(bytes: &[u8]) -> Option<Promise> {
    // A copy outside WebAssembly memory: digest() refuses a view of shared memory, which the
    // threaded worker's memory is.
    start_sha256_of(&Uint8Array::from(bytes))
}

/// As [`start_sha256`], for bytes already outside WebAssembly memory.
#[inline]
fn start_sha256_of(bytes: &Uint8Array) -> Option<Promise> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok().filter(|subtle| subtle.is_object())?;
    let subtle: SubtleCrypto = subtle.unchecked_into();
    subtle.digest_with_str_and_js_u8_array("SHA-256", bytes).ok()
}

#[inline]
async fn sha256(bytes: &[u8]) -> Option<Vec<u8>> {
    let digest = JsFuture::from(start_sha256(bytes)?).await.ok()?;
    Some(Uint8Array::new(&digest).to_vec())
}

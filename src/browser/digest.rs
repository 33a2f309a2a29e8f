//! Checking the model's weights as they are read: against the manifest's BLAKE3 where it lists
//! one, else with the browser's own SHA-256 (SubtleCrypto). The check is on the path of every
//! start-up from the cache. SubtleCrypto is native, a fraction of the 1.1-1.5 s that sha2 takes
//! in WebAssembly, but it hashes on the reading thread and ran after each chunk arrived: measured
//! in Chromium 148 on 2 cores, reading the 88 MB took 110 ms and reading and hashing it 335 ms.
//! BLAKE3 in WebAssembly SIMD (the `blake3` crate) hashes each chunk as it arrives, faster.

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
/// is in. A download spends most of its time waiting for the network, and the hashing fills
/// those waits instead of following the download. (SubtleCrypto hashes on the calling thread:
/// measured in Chromium 148, so reading from the cache, which keeps this thread busy, gains
/// little; a separate hashing worker gained 30-50 ms there and was not kept.)
///
/// Where the manifest lists the sha256 of each chunk of the file, each chunk is hashed on its
/// own: SubtleCrypto needs a copy outside WebAssembly memory (and makes one more of its own), so
/// hashing the whole file at once held two extra 88 MB copies in the worker at start-up, the
/// moment of the page's peak memory; chunk by chunk they are a few MB.
///
/// Where the manifest lists a BLAKE3, that is the check instead: each piece is hashed as it
/// arrives, in WebAssembly, on the reading thread.
pub struct StreamingCheck<'a> {
    manifest: &'a ModelManifest,
    chunks: Vec<Range<usize>>,
    /// The digests started so far, in chunk order; `None` once SubtleCrypto has refused one.
    started: Option<Vec<Promise>>,
    /// With a BLAKE3 in the manifest: the hash so far, and how many bytes it has taken.
    blake3: Option<(blake3::Hasher, usize)>,
}

impl<'a> StreamingCheck<'a> {
    #[inline]
    pub fn new(manifest: &'a ModelManifest) -> Self {
        let blake3 = (!manifest.blake3.is_empty()).then(|| (blake3::Hasher::new(), 0));
        Self { manifest, chunks: manifest.chunk_ranges(), started: Some(Vec::new()), blake3 }
    }

    /// Hashes what `read` (the file so far) holds beyond what was hashed, or starts the digests
    /// of the chunks that it now holds in full.
    #[inline]
    pub fn feed(&mut self, read: &[u8]) {
        if let Some((hasher, hashed)) = &mut self.blake3 {
            if let Some(new) = read.get(*hashed..) {
                hasher.update(new);
                *hashed = read.len();
            }
            return;
        }
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

    /// The weights, once every chunk's digest (or the whole file's) matches the manifest.
    #[inline]
    pub async fn finish(mut self, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
        let manifest = self.manifest;
        if self.blake3.is_some() {
            self.feed(&weights);
            let Some((hasher, hashed)) = self.blake3.take() else { return manifest.verified(weights) };
            // `feed` was given other bytes than these (shorter, or not the same file): start over.
            let digest = if hashed == weights.len() { hasher.finalize() } else { blake3::hash(&weights) };
            return manifest.verified_by_blake3(weights, digest.as_bytes());
        }
        if self.chunks.is_empty() {
            return match sha256(&weights).await {
                Some(digest) => manifest.verified_by_digest(weights, &digest),
                None => manifest.verified(weights),
            };
        }
        self.feed(&weights);
        let Some(started) = self.started.take() else { return manifest.verified(weights) };
        let mut digests = Vec::with_capacity(started.len());
        for (range, digest) in self.chunks.iter().zip(started) {
            // A digest that failed is computed again, then with sha2 if SubtleCrypto fails again.
            let digest = match JsFuture::from(digest).await {
                Ok(digest) => Some(Uint8Array::new(&digest).to_vec()),
                Err(_) => match weights.get(range.clone()) {
                    Some(chunk) => sha256(chunk).await,
                    None => None,
                },
            };
            match digest {
                Some(digest) => digests.push(digest),
                None => return manifest.verified(weights),
            }
        }
        manifest.verified_by_chunk_digests(weights, &digests)
    }
}

/// The SHA-256 of `bytes`, started: `None` where the browser has no SubtleCrypto.
#[inline]
fn start_sha256(bytes: &[u8]) -> Option<Promise> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok().filter(|subtle| subtle.is_object())?;
    let subtle: SubtleCrypto = subtle.unchecked_into();
    // A copy outside WebAssembly memory: digest() refuses a view of shared memory, which the
    // threaded worker's memory is.
    let copy = Uint8Array::from(bytes);
    subtle.digest_with_str_and_js_u8_array("SHA-256", &copy).ok()
}

#[inline]
async fn sha256(bytes: &[u8]) -> Option<Vec<u8>> {
    let digest = JsFuture::from(start_sha256(bytes)?).await.ok()?;
    Some(Uint8Array::new(&digest).to_vec())
}

//! Checking the model's weights as they are read, against the BLAKE3 that the manifest lists.
//! The check is on the path of every start-up from the cache and of the first download.
//!
//! It was SHA-256 with the browser's SubtleCrypto, chunk by chunk against a list of per-chunk
//! digests. SubtleCrypto is native, but it hashes on the calling thread and needs a copy of each
//! chunk outside WebAssembly memory; measured in Chromium 148 on a 2-core machine, reading the
//! 88 MB from Cache Storage took 110 ms and reading and hashing it 335 ms, and the worker's read
//! step 380-456 ms. BLAKE3 in WebAssembly SIMD (the `blake3` crate) hashes each piece as it
//! arrives, in the waits between pieces, with no copy: the read step takes 200-290 ms. A read
//! from the cache turned out to leave its thread few waits, so the threaded worker hashes that
//! one on its pool once it is read ([`StreamingCheck::finish_on_pool`]).

// Every function here is `#[inline]`: only the worker calls them, and compiled into this library's
// own object code they drew the WebGPU compiler's registrations into the page's WebAssembly (1.1 MB
// grew to 8.9 MB, and the page took 0.35 s longer to start). Inline, they are compiled only where
// they are called.

use bgone_core::model::{ManifestError, ModelManifest, VerifiedWeights};

/// `weights` checked against `manifest`.
#[inline]
pub fn verify(manifest: &ModelManifest, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
    StreamingCheck::new(manifest).finish(weights)
}

/// The check of weights that are still arriving: [`StreamingCheck::feed`] is called with the
/// bytes read so far and hashes what is new. A download spends most of its time waiting for the
/// network: the hashing fills those waits instead of following the read. (So does the one-thread
/// worker's read from the cache, which has fewer waits.)
pub struct StreamingCheck<'a> {
    manifest: &'a ModelManifest,
    hasher: blake3::Hasher,
    /// How many bytes of the file the hasher has taken.
    hashed: usize,
}

impl<'a> StreamingCheck<'a> {
    #[inline]
    pub fn new(manifest: &'a ModelManifest) -> Self {
        Self { manifest, hasher: blake3::Hasher::new(), hashed: 0 }
    }

    /// Hashes what `read` (the file so far) holds beyond what was hashed.
    #[inline]
    pub fn feed(&mut self, read: &[u8]) {
        if let Some(new) = read.get(self.hashed..) {
            self.hasher.update(new);
            self.hashed = read.len();
        }
    }

    /// As [`Self::finish`], with what was not fed hashed by the threaded worker's thread pool
    /// (BLAKE3's tree split over its threads). Reading from the cache keeps the worker's own
    /// thread busy (each piece is copied into the WebAssembly memory as it arrives), so hashing
    /// there as the pieces arrived lengthened the read by the whole hash, while the pool's
    /// threads wait idle until the first photo. The pool must have started.
    #[cfg(feature = "threads")]
    #[inline]
    pub fn finish_on_pool(mut self, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
        if self.hashed == 0 && !self.manifest.blake3.is_empty() {
            self.hasher.update_rayon(&weights);
            self.hashed = weights.len();
        }
        self.finish(weights)
    }

    /// The weights, once their BLAKE3 matches the manifest's. A manifest without one (written
    /// before it listed one; `models/setup.sh` writes it again) is checked by its sha256, with
    /// sha2 in WebAssembly: correct, 1.1-1.5 s slower.
    #[inline]
    pub fn finish(mut self, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
        let manifest = self.manifest;
        if manifest.blake3.is_empty() {
            return manifest.verified(weights);
        }
        self.feed(&weights);
        // `feed` was given more than these bytes, so not a start of this file: hash them anew.
        let digest = if self.hashed == weights.len() { self.hasher.finalize() } else { blake3::hash(&weights) };
        manifest.verified_by_blake3(weights, digest.as_bytes())
    }
}

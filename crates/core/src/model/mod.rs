//! ISNet (DIS, "general use") as a Burn module, its weights and its manifest.
//!
//! Module and field names follow the source graph (`stage1.rebnconvin.conv_s1`), so a weight
//! name in the converted file is the path of the field it fills.

mod conv;
mod isnet;
mod loader;
mod manifest;
mod maxima;
mod rebnconv;
mod resample;
mod rsu;

#[doc(hidden)]
pub use conv::reference as conv_reference;
pub use conv::{SameConv, Source, StridedConv, WeightValue};
pub use isnet::{Isnet, IsnetConfig};
pub use loader::{LoadError, load_isnet};
pub use manifest::{ManifestError, ModelManifest, Normalization, VerifiedWeights};
pub use resample::planes::max_pool_2x2_ceil;

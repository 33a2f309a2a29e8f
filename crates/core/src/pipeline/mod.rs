//! Everything around the network: decoding a photo, feeding the network, bringing its mask back
//! to the photo's size, composing the cutout and encoding what the user downloads.

mod background;
mod compose;
mod decode;
mod encode;
mod mask;
mod preprocess;

pub use background::{Background, BackgroundError};
pub use compose::{cutout, on_background};
pub use decode::{DecodeError, DecodeLimits, decode};
pub use encode::{EncodeError, OutputFormat, render};
pub use mask::Mask;
pub use preprocess::network_input;

use std::path::PathBuf;

use bgone_core::pipeline::{Background, OutputFormat};
use clap::{Parser, ValueEnum};

/// Remove the background from photos, on this machine. Nothing is uploaded.
///
/// Each input file (or every image in an input folder) is written to the output folder as
/// <name>.<format>: a cutout with a transparent background by default.
#[derive(Debug, Parser)]
#[command(name = "bgone", version, after_help = EXAMPLES)]
pub struct Args {
    /// Photos or folders of photos (JPEG, PNG, WebP, GIF, BMP, TIFF).
    #[arg(required = true, value_name = "FILES OR FOLDERS")]
    pub inputs: Vec<PathBuf>,

    /// Folder to write the results to (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// File format of the results.
    #[arg(short, long, value_enum, default_value_t = Format::Png)]
    pub format: Format,

    /// Background behind the subject: transparent, white, black, or a hex colour (#ff8800).
    /// JPEG has no transparency, so it uses white unless a colour is given.
    #[arg(short, long, default_value = "transparent", value_parser = parse_background)]
    pub background: Background,

    /// Write the mask (white = subject) as a grayscale PNG instead of the cutout.
    #[arg(long)]
    pub mask: bool,

    /// Where the network runs. `auto` uses a hardware GPU when there is one, else the CPU.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,

    /// The model manifest written by `bash models/setup.sh` [default: $BGONE_MODEL, else
    /// models/generated/isnet-medium.json].
    #[arg(long, value_name = "MANIFEST")]
    pub model: Option<PathBuf>,

    /// Run the network at SIZE x SIZE (a multiple of 64). Smaller is faster and coarser.
    #[arg(long, value_name = "SIZE")]
    pub size: Option<usize>,

    /// Print only errors.
    #[arg(short, long)]
    pub quiet: bool,
}

const EXAMPLES: &str = "Examples:
  bgone photo.jpg -o out/                     out/photo.png with a transparent background
  bgone shots/ -o white/ -f jpg -b white      every image in shots/ on white, as JPEG
  bgone portrait.heic.jpg --mask -o masks/    the mask alone";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Png,
    Webp,
    #[value(alias = "jpeg")]
    Jpg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Auto,
    Cpu,
    Gpu,
    /// Burn's deprecated ndarray CPU backend (for comparison only).
    #[cfg(feature = "ndarray")]
    Ndarray,
}

impl Args {
    pub fn output_format(&self) -> OutputFormat {
        match (self.mask, self.format) {
            (true, _) => OutputFormat::MaskPng,
            (false, Format::Png) => OutputFormat::Png,
            (false, Format::Webp) => OutputFormat::WebP,
            (false, Format::Jpg) => OutputFormat::Jpeg,
        }
    }
}

fn parse_background(text: &str) -> Result<Background, String> {
    text.parse().map_err(|error: bgone_core::pipeline::BackgroundError| error.to_string())
}

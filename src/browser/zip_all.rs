//! "Download all": every finished cutout in one ZIP.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::BrowserError;

/// `files` are (name, bytes). PNGs are already compressed, so they are stored as they are.
pub fn zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, BrowserError> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let error = |e: &dyn std::fmt::Display| BrowserError(format!("could not build the ZIP ({e})"));
    for (name, bytes) in files {
        writer.start_file(name.as_str(), options).map_err(|e| error(&e))?;
        writer.write_all(bytes).map_err(|e| error(&e))?;
    }
    Ok(writer.finish().map_err(|e| error(&e))?.into_inner())
}

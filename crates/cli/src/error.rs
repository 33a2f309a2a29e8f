use std::path::PathBuf;

use bgone_core::engine;

/// Errors that stop the whole run (a bad file only stops itself; see `batch`).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("The model is not set up ({} : {detail}). Run `bash models/setup.sh` first.", path.display())]
    ModelMissing { path: PathBuf, detail: String },
    #[error(transparent)]
    Manifest(#[from] bgone_core::model::ManifestError),
    #[error(transparent)]
    Remove(#[from] bgone_core::RemoveError),
    #[error(transparent)]
    NoGpu(#[from] engine::NoGpu),
    #[error("Cannot create the output folder {} ({detail}).", path.display())]
    OutputFolder { path: PathBuf, detail: String },
    #[error("None of the inputs is an image file.")]
    NothingToDo,
}

//! Shared by the CLI's tests: where the source tree, the model and the caches are, and the
//! `bgone` binary as a user runs it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The source tree, asked of cargo at run time: a test binary built from another clone that
/// shares the target folder (CI's cache) is not rebuilt for this one, and `env!` would name that clone.
pub fn repo() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())).join("../..")
}

/// The setup's model (`bash models/setup.sh`).
pub fn model_manifest() -> PathBuf {
    repo().join("models/generated/isnet-medium.json")
}

pub fn cache_dir() -> PathBuf {
    std::env::var_os("BGONE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/bgone"))
}

/// `bgone` run in `dir`, with the model named as a user outside the source tree names it
/// (`$BGONE_MODEL`): the binary's own fallback is the source tree it was built from, which a
/// binary shared through CI's target folder and not rebuilt for this clone would take from
/// another clone.
pub fn bgone(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bgone"));
    command.current_dir(dir).env("BGONE_MODEL", model_manifest());
    command
}

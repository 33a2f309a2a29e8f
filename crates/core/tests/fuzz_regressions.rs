//! Replays, through the fuzz target's own code path, every input the fuzzer ever crashed on
//! (`tests/fuzz/regressions/`) and every file of the generated bad-input corpus.

mod common;

use std::path::PathBuf;

fn files_in(dir: PathBuf) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.extension().is_none_or(|ext| ext != "md" && ext != "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_saved_crash_and_corpus_file_runs_clean() {
    let mut files = files_in(common::repo_root().join("tests/fuzz/regressions"));
    let corpus = files_in(common::cache_dir().join("corpus"));
    assert!(!corpus.is_empty(), "no bad-input corpus: run `bash tests/corpus/generate.sh` first");
    files.extend(corpus);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        // A panic here names the file; the test harness reports it as this test's failure.
        println!("{}", file.display());
        bgone_core::fuzzing::exercise(&data);
    }
    println!("{} inputs ran clean", files.len());
}

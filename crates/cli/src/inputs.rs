use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Extensions picked up from folders. Files named on the command line are always tried, so a
/// misnamed file still gets a clear message instead of being skipped silently.
const IMAGE_EXTENSIONS: &[&str] =
    &["jpg", "jpeg", "jfif", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif", "avif", "svg"];

/// One file to process and where its result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub input: PathBuf,
    pub output: PathBuf,
}

/// Expands folders (recursively, in name order) and gives each input a distinct output name:
/// `<stem>.<ext>`, then `<stem>-2.<ext>` when two inputs share a stem.
pub fn collect(inputs: &[PathBuf], out_dir: &Path, extension: &str) -> (Vec<Job>, Vec<String>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut files, &mut problems);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            problems.push(format!("{}: no such file or folder.", input.display()));
        }
    }
    let mut taken: HashMap<String, usize> = HashMap::new();
    let jobs = files
        .into_iter()
        .map(|input| {
            let stem = input.file_stem().map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
            let count = taken.entry(stem.clone()).or_default();
            *count += 1;
            let name = if *count == 1 { format!("{stem}.{extension}") } else { format!("{stem}-{count}.{extension}") };
            Job { output: out_dir.join(name), input }
        })
        .collect();
    (jobs, problems)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(format!("{}: cannot read this folder ({error}).", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, problems);
        } else if has_image_extension(&path) {
            files.push(path);
        }
    }
}

fn has_image_extension(path: &Path) -> bool {
    path.extension().and_then(|ext| ext.to_str()).is_some_and(|ext| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_stems_get_distinct_outputs_and_folders_expand() {
        let dir = std::env::temp_dir().join(format!("bgone-inputs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for name in ["a.jpg", "a.png", "notes.txt", "sub/b.webp"] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let (jobs, problems) = collect(&[dir.clone(), dir.join("missing.jpg")], Path::new("out"), "png");
        let outputs: Vec<_> = jobs.iter().map(|job| job.output.to_string_lossy().into_owned()).collect();
        assert_eq!(outputs, ["out/a.png", "out/a-2.png", "out/b.png"]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("missing.jpg"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

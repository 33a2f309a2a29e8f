//! The bad-input corpus (`tests/corpus/generate.py`: empty, text, truncated, bomb, CMYK, 16-bit,
//! grey+alpha, animated, EXIF orientations 1-8, SVG, HEIC) through the `bgone` binary as one batch:
//! each file gets its cutout, upright and at its size, or one clear line; the rest go on.

mod common;

use std::process::Command;

use common::cache_dir;
use serde_json::Value;

#[test]
fn every_corpus_file_gets_a_correct_cutout_or_a_clear_message() {
    let corpus = cache_dir().join("corpus");
    let expected: Vec<Value> = std::fs::read_to_string(corpus.join("expected.json"))
        .map(|text| serde_json::from_str(&text).expect("expected.json parses"))
        .unwrap_or_else(|e| panic!("{}: {e}. Run `bash tests/corpus/generate.sh` first.", corpus.display()));
    let out = std::env::temp_dir().join(format!("bgone-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let model = common::model_manifest();

    // The network at 64x64 keeps this quick; what is tested is decoding and composing.
    let run = Command::new(env!("CARGO_BIN_EXE_bgone"))
        .arg(&corpus)
        .arg("-o")
        .arg(&out)
        .args(["--engine", "cpu", "--size", "64", "-q", "--model"])
        .arg(&model)
        .output()
        .expect("bgone runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "some files are bad, so the exit status is 1:\n{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error:")).collect();

    for case in &expected {
        let name = case["name"].as_str().unwrap();
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        let output = out.join(format!("{stem}.png"));
        if let Some(message) = case["error"].as_str() {
            let lines: Vec<&&str> = errors.iter().filter(|line| line.contains(name)).collect();
            assert_eq!(lines.len(), 1, "{name}: one error line expected:\n{stderr}");
            assert!(lines[0].contains(message), "{name}: {:?} does not say {message:?}", lines[0]);
            assert!(!output.exists(), "{name}: no output for a bad file");
            continue;
        }
        let cutout = image::open(&output).unwrap_or_else(|e| panic!("{name}: no cutout ({e}):\n{stderr}")).into_rgba8();
        let size = &case["result"];
        assert_eq!(
            (cutout.width(), cutout.height()),
            (size[0].as_u64().unwrap() as u32, size[1].as_u64().unwrap() as u32),
            "{name}: wrong size (not turned upright?)"
        );
        // A fully transparent pixel keeps no colour (0, 0, 0, 0); every other keeps the photo's,
        // and at least one checked pixel per file must show it.
        let mut visible = 0;
        for pixel in case["pixels"].as_array().unwrap() {
            let (x, y) = (pixel[0].as_u64().unwrap() as u32, pixel[1].as_u64().unwrap() as u32);
            let got = cutout.get_pixel(x, y).0;
            if got[3] == 0 {
                assert_eq!(got, [0; 4], "{name}: pixel ({x},{y}) is fully transparent but keeps a colour");
                continue;
            }
            visible += 1;
            for (channel, want) in pixel[2].as_array().unwrap().iter().enumerate() {
                let want = want.as_u64().unwrap() as u8;
                assert!(got[channel].abs_diff(want) <= 48, "{name}: pixel ({x},{y}) is {got:?}, expected about {pixel}");
            }
        }
        assert!(visible > 0, "{name}: every checked pixel is fully transparent, so its colours went unchecked");
    }
    assert_eq!(errors.len(), expected.iter().filter(|case| case["error"].is_string()).count(), "{stderr}");
    std::fs::remove_dir_all(&out).unwrap();
}

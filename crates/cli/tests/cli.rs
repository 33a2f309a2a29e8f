//! The `bgone` binary as a user runs it: a batch with bad files among good ones.

mod common;

use std::path::{Path, PathBuf};

use common::repo;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bgone-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    dir
}

fn bgone(args: &[&str], dir: &Path) -> std::process::Output {
    common::bgone(dir).args(args).output().expect("bgone runs")
}

#[test]
#[ignore = "slow: runs the network"]
fn a_bad_file_gets_one_clear_line_and_the_others_complete() {
    let dir = scratch("batch");
    std::fs::copy(repo().join("tests/fixtures/photos/coffee.png"), dir.join("in/coffee.png")).unwrap();
    std::fs::copy(repo().join("tests/fixtures/photos/chelsea.png"), dir.join("in/chelsea.png")).unwrap();
    std::fs::write(dir.join("in/notes.jpg"), "this is not a photo").unwrap();
    let jpeg = std::fs::read(repo().join("tests/fixtures/photos/rocket.jpg")).unwrap();
    std::fs::write(dir.join("in/cut.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();

    let out = bgone(&["in", "-o", "out", "--engine", "cpu", "--size", "256"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error:")).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(errors.iter().any(|l| l.contains("notes.jpg") && l.contains("not an image")), "{stderr}");
    assert!(errors.iter().any(|l| l.contains("cut.jpg") && l.contains("damaged or incomplete")), "{stderr}");

    let cutout = image::open(dir.join("out/coffee.png")).unwrap().into_rgba8();
    assert_eq!(cutout.dimensions(), (600, 400));
    // The cup in the middle is kept, the table at the corner is not.
    assert!(cutout.get_pixel(300, 200).0[3] > 200);
    assert!(cutout.get_pixel(5, 5).0[3] < 50);
    assert!(dir.join("out/chelsea.png").exists());
    assert!(!dir.join("out/notes.png").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[ignore = "slow: runs the network"]
fn formats_and_backgrounds() {
    let dir = scratch("formats");
    std::fs::copy(repo().join("tests/fixtures/photos/coffee.png"), dir.join("in/coffee.png")).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["in/coffee.png", "-o", "out", "--engine", "cpu", "--size", "256", "-q"];
        args.extend_from_slice(extra);
        let out = bgone(&args, &dir);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["-f", "jpg", "-b", "#00ff00"]);
    let jpeg = image::open(dir.join("out/coffee.jpg")).unwrap().into_rgb8();
    let corner = jpeg.get_pixel(5, 5).0;
    assert!(corner[1] > 200 && corner[0] < 60 && corner[2] < 60, "corner {corner:?} is not green");

    run(&["-f", "webp"]);
    let webp = image::open(dir.join("out/coffee.webp")).unwrap().into_rgba8();
    assert!(webp.get_pixel(300, 200).0[3] > 200 && webp.get_pixel(5, 5).0[3] < 50);

    run(&["--mask"]);
    let mask = image::open(dir.join("out/coffee.png")).unwrap();
    assert_eq!(mask.color(), image::ColorType::L8);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_reads_well_and_usage_errors_exit_2() {
    let dir = scratch("help");
    let help = bgone(&["--help"], &dir);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Remove the background") && text.contains("--background") && text.contains("Examples"));
    let out = bgone(&["missing.jpg", "-o", "out"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jpg: no such file"));
    let out = bgone(&["x.jpg", "-o", "out", "-b", "not-a-colour"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hex colour"));
    std::fs::remove_dir_all(dir).unwrap();
}

//! 100 photos through one `bgone` run: memory must stay flat once it is warm. The process's
//! resident set is sampled while it works, against how many cutouts it has written so far, so a
//! leak of anything per image (decoded photos, tensors, encoders) shows as a rising peak.

mod common;

use std::path::Path;
use std::time::Duration;

use common::repo;

const PHOTOS: usize = 100;
/// A few photos at 12 megapixels among the small ones, so full-resolution compose and encode
/// buffers are part of what must not pile up.
const LARGE_EVERY: usize = 25;

/// Resident set size of a running process, in MiB (Linux /proc).
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

fn make_inputs(dir: &Path) {
    let fixtures = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"];
    let large = image::open(repo().join("tests/fixtures/photos/rocket.jpg")).unwrap().resize_exact(
        4000,
        3000,
        image::imageops::FilterType::Triangle,
    );
    for index in 0..PHOTOS {
        if index % LARGE_EVERY == LARGE_EVERY - 1 {
            large.to_rgb8().save(dir.join(format!("{index:03}-large.jpg"))).unwrap();
        } else {
            let name = fixtures[index % fixtures.len()];
            std::fs::copy(repo().join("tests/fixtures/photos").join(name), dir.join(format!("{index:03}-{name}"))).unwrap();
        }
    }
}

#[test]
#[ignore = "slow: 100 network passes"]
fn memory_stays_flat_over_a_hundred_photos() {
    let dir = std::env::temp_dir().join(format!("bgone-long-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    make_inputs(&dir.join("in"));

    // The network at 256 keeps the run short; every other stage works at the photo's full size.
    let mut child =
        common::bgone(&dir).args(["in", "-o", "out", "--engine", "cpu", "--size", "256", "-q"]).spawn().expect("bgone runs");
    let pid = child.id();
    let mut samples: Vec<(usize, f64)> = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some(rss) = rss_mib(pid) {
            samples.push((count_files(&dir.join("out")), rss));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "bgone failed");
    assert_eq!(count_files(&dir.join("out")), PHOTOS);

    let peak = |from: usize, to: usize| {
        samples.iter().filter(|(done, _)| (from..to).contains(done)).map(|(_, rss)| *rss).fold(0.0, f64::max)
    };
    let warm = peak(10, 40);
    let late = peak(70, PHOTOS + 1);
    println!(
        "{PHOTOS} photos in one run: peak RSS {:.0} MiB during photos 0-9, {warm:.0} MiB during 10-39, \
         {late:.0} MiB during 70-100 ({} samples)",
        peak(0, 10),
        samples.len()
    );
    assert!(warm > 0.0 && late > 0.0, "too few samples: {}", samples.len());
    // Flat: the late peak may wobble with the allocator, but not grow with the number of photos.
    assert!(late <= warm * 1.10 + 32.0, "memory grows: {warm:.0} MiB after warm-up, {late:.0} MiB at the end");
    std::fs::remove_dir_all(dir).unwrap();
}

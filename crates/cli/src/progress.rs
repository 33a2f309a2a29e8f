use std::path::Path;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The overall bar and one line per image in flight. Hidden when stderr is not a terminal or
/// with --quiet; errors are always printed, above the bars.
pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    quiet: bool,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Self {
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} images, {per_sec}, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self { multi, overall, quiet }
    }

    /// A line for one image: its name, what is happening to it, and for how long.
    pub fn file(&self, path: &Path) -> ProgressBar {
        let bar = self.multi.insert_before(&self.overall, ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    pub fn finish_file(&self, bar: &ProgressBar) {
        bar.finish_and_clear();
        self.multi.remove(bar);
        self.overall.inc(1);
    }

    pub fn error(&self, line: &str) {
        if self.quiet || self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    pub fn info(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }
}

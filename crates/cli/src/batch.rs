use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

use bgone_core::Remover;
use bgone_core::pipeline::{Background, DecodeLimits, Mask, OutputFormat, decode, render};
use image::DynamicImage;
use indicatif::ProgressBar;

use crate::inputs::Job;
use crate::progress::Progress;

#[derive(Debug, Default)]
pub struct Outcome {
    pub done: usize,
    pub failed: usize,
}

/// Runs every job through three stages on their own threads: decode, network, compose and
/// write. While the network runs on one image, the next one decodes and the previous one is
/// encoded. The channels hold one image each, so memory stays bounded however long the batch.
pub fn run(jobs: Vec<Job>, remover: &Remover, format: OutputFormat, background: Background, progress: &Progress) -> Outcome {
    let done = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let fail = |job: &Job, bar: &ProgressBar, message: String| {
        progress.error(&format!("error: {}: {message}", job.input.display()));
        progress.finish_file(bar);
        failed.fetch_add(1, Ordering::Relaxed);
    };
    let (decoded_tx, decoded_rx) = sync_channel::<(Job, ProgressBar, DynamicImage)>(1);
    let (masked_tx, masked_rx) = sync_channel::<(Job, ProgressBar, DynamicImage, Mask)>(1);

    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Owned here, so the network stage sees the channel close after the last image.
            let decoded_tx = decoded_tx;
            for job in jobs {
                let bar = progress.file(&job.input);
                bar.set_message("decoding");
                let photo = std::fs::read(&job.input)
                    .map_err(|error| format!("cannot read the file ({error})."))
                    .and_then(|bytes| decode(&bytes, &DecodeLimits::default()).map_err(|error| error.to_string()));
                match photo {
                    Ok(photo) => {
                        bar.set_message("waiting for the network");
                        if decoded_tx.send((job, bar, photo)).is_err() {
                            return;
                        }
                    }
                    Err(message) => fail(&job, &bar, message),
                }
            }
        });

        scope.spawn(|| {
            for (job, bar, photo, mask) in masked_rx {
                bar.set_message("saving");
                let written = render(&photo, &mask.alpha(photo.width(), photo.height()), format, background)
                    .map_err(|error| error.to_string())
                    .and_then(|bytes| {
                        std::fs::write(&job.output, bytes)
                            .map_err(|error| format!("cannot write {} ({error}).", job.output.display()))
                    });
                match written {
                    Ok(()) => {
                        progress.finish_file(&bar);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(message) => fail(&job, &bar, message),
                }
            }
        });

        for (job, bar, photo) in decoded_rx {
            bar.set_message("removing the background");
            // A failing engine must cost this image, not the batch.
            match catch_unwind(AssertUnwindSafe(|| remover.mask(&photo))) {
                Ok(Ok(mask)) => {
                    if masked_tx.send((job, bar, photo, mask)).is_err() {
                        break;
                    }
                }
                Ok(Err(error)) => fail(&job, &bar, error.to_string()),
                Err(_) => fail(&job, &bar, "the engine crashed on this image; try --engine cpu.".into()),
            }
        }
        drop(masked_tx);
    });
    Outcome { done: done.into_inner(), failed: failed.into_inner() }
}

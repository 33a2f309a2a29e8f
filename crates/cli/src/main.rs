//! `bgone`: the command-line front of the removal core, for batches of photos.

use std::process::ExitCode;
use std::time::Instant;

use bgone_core::engine::{self, Engine};
use clap::Parser;

use bgone_cli::args::{Args, EngineArg};
use bgone_cli::progress::Progress;
use bgone_cli::{CliError, batch, inputs, model};

fn main() -> ExitCode {
    bgone_cli::allocator::keep_freed_memory();
    let args = Args::parse();
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Returns how many files failed.
fn run(args: &Args) -> Result<usize, CliError> {
    let format = args.output_format();
    let (jobs, problems) = inputs::collect(&args.inputs, &args.output, format.extension());
    let progress = Progress::new(jobs.len(), args.quiet);
    for problem in &problems {
        progress.error(&format!("error: {problem}"));
    }
    if jobs.is_empty() {
        return Err(CliError::NothingToDo);
    }
    std::fs::create_dir_all(&args.output)
        .map_err(|error| CliError::OutputFolder { path: args.output.clone(), detail: error.to_string() })?;

    let (engine, device) = match args.engine {
        EngineArg::Auto => {
            let choice = engine::auto();
            progress.info(&format!("engine: {} ({})", choice.engine.label(), choice.reason));
            (choice.engine, choice.device)
        }
        EngineArg::Cpu => (Engine::Cpu, engine::open(Engine::Cpu)?),
        EngineArg::Gpu => (Engine::Gpu, engine::open(Engine::Gpu)?),
        #[cfg(feature = "ndarray")]
        EngineArg::Ndarray => (Engine::NdArray, engine::open(Engine::NdArray)?),
    };
    let remover = model::load(&model::manifest_path(args.model.as_deref()), device, args.size)?;

    let started = Instant::now();
    let outcome = batch::run(jobs, &remover, format, args.background, &progress);
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    let per_image = seconds / (outcome.done + outcome.failed).max(1) as f64;
    progress.info(&format!(
        "Done: {} of {} images written to {} in {seconds:.1} s ({per_image:.1} s per image, {}).",
        outcome.done,
        outcome.done + outcome.failed,
        args.output.display(),
        engine.label()
    ));
    Ok(outcome.failed + problems.len())
}

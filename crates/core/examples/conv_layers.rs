//! Times the CPU engine's convolution kernels (each register-tile kernel this CPU has, then
//! `gemm`), by one product per tap ("direct") and by the engine's path (Winograd's algorithm at
//! dilation 1), on ISNet's layer shapes and prints per layer and over all of them the time and the
//! GFLOP/s of the direct computation's arithmetic (so a faster algorithm shows as more GFLOP/s):
//! `cargo run --release -p bgone-core --features native-fast --example conv_layers`.
use std::time::Instant;

use bgone_core::model::{SameConv, Source, conv_reference};

fn main() {
    let shapes = [
        (128, 64, 512, 1),
        (64, 64, 512, 1),
        (32, 64, 512, 1),
        (64, 32, 512, 1),
        (64, 16, 512, 1),
        (64, 1, 512, 1),
        (256, 64, 256, 1),
        (512, 128, 128, 1),
        (1024, 256, 64, 1),
        (512, 256, 16, 2),
        (512, 256, 16, 8),
    ];
    let kernels = conv_reference::available().into_iter().map(Some).chain([None]);
    for (kernel, direct) in kernels.flat_map(|kernel| [(kernel, true), (kernel, false)]) {
        let name = kernel.map_or_else(|| "gemm".to_owned(), |k| k.name.to_owned());
        let name = format!("{name} {}", if direct { "direct" } else { "engine" });
        let (mut all_flops, mut all_secs) = (0.0, 0.0);
        for (ci, co, size, dilation) in shapes {
            let conv = SameConv { in_channels: ci, out_channels: co, height: size, width: size, kernel: 3, dilation };
            let input = vec![0.5f32; ci * size * size];
            let weight = vec![0.01f32; co * ci * 9];
            let bias = vec![0.1f32; co];
            let flops = 2.0 * 9.0 * (ci * co * size * size) as f64;
            let reps = ((4e9 / flops).ceil() as usize).max(2);
            let sources = [Source::Same(&input)];
            let run = || match direct {
                true => conv.run_direct_with(kernel, &sources, &weight, Some(&bias), true),
                false => conv.run_with(kernel, &sources, &weight, Some(&bias), true),
            };
            run();
            let start = Instant::now();
            for _ in 0..reps {
                std::hint::black_box(run());
            }
            let secs = start.elapsed().as_secs_f64() / reps as f64;
            (all_flops, all_secs) = (all_flops + flops, all_secs + secs);
            println!(
                "{name:>16} {ci:>5}->{co:<4} {size:>4}x{size:<4} d{dilation}: {:>7.2} ms {:>6.1} GFLOP/s",
                secs * 1e3,
                flops / secs / 1e9
            );
        }
        println!("{name:>16} all layers above: {:>7.1} ms {:>6.1} GFLOP/s\n", all_secs * 1e3, all_flops / all_secs / 1e9);
    }
}

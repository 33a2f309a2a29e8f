//! The definition of a "same" convolution, computed slowly, and deterministic test data: what
//! the kernel's tests hold it to, natively (unit tests) and in WebAssembly (browser glue tests).

use super::SameConv;
pub use super::register_tiles::{TileKernel, available};

/// `out[co, y, x] = relu?(b[co] + sum over ci, ky, kx of w[co, ci, ky, kx] *
/// in[ci, y + d*ky - p, x + d*kx - p])`, zero outside the input.
pub fn convolve(shape: &SameConv, input: &[f32], weight: &[f32], bias: &[f32], relu: bool) -> Vec<f32> {
    let SameConv { in_channels, out_channels, height, width, kernel, dilation } = *shape;
    let pad = (dilation * (kernel - 1) / 2) as isize;
    let at = |c: usize, y: isize, x: isize| {
        let inside = y >= 0 && x >= 0 && y < height as isize && x < width as isize;
        if inside { input[(c * height + y as usize) * width + x as usize] } else { 0.0 }
    };
    let mut out = vec![0.0; out_channels * height * width];
    for co in 0..out_channels {
        for y in 0..height {
            for x in 0..width {
                let mut acc = bias[co];
                for ci in 0..in_channels {
                    for ky in 0..kernel {
                        for kx in 0..kernel {
                            let iy = y as isize + (dilation * ky) as isize - pad;
                            let ix = x as isize + (dilation * kx) as isize - pad;
                            acc += weight[((co * in_channels + ci) * kernel + ky) * kernel + kx] * at(ci, iy, ix);
                        }
                    }
                }
                out[(co * height + y) * width + x] = if relu { acc.max(0.0) } else { acc };
            }
        }
    }
    out
}

/// Deterministic values in -0.5..0.5 (a small LCG; no dependency).
pub fn test_values(len: usize, seed: u32) -> Vec<f32> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

/// The largest difference between [`SameConv::run_with`] `kernel` and [`convolve`] on test values.
pub fn worst_difference(shape: SameConv, relu: bool, kernel: Option<TileKernel>) -> f32 {
    worst_difference_of(shape, relu, |input, weight, bias| {
        shape.run_with(kernel, &[super::Source::Same(input)], weight, Some(bias), relu)
    })
}

/// As [`worst_difference`] for [`SameConv::run_direct_with`]: one product per tap, even where
/// Winograd's algorithm would be used.
pub fn worst_direct_difference(shape: SameConv, relu: bool, kernel: Option<TileKernel>) -> f32 {
    worst_difference_of(shape, relu, |input, weight, bias| {
        shape.run_direct_with(kernel, &[super::Source::Same(input)], weight, Some(bias), relu)
    })
}

/// The largest difference between `run(input, weight, bias)` and [`convolve`] on test values.
pub fn worst_difference_of(shape: SameConv, relu: bool, run: impl Fn(&[f32], &[f32], &[f32]) -> Vec<f32>) -> f32 {
    let input = test_values(shape.in_channels * shape.height * shape.width, 1);
    let weight = test_values(shape.out_channels * shape.in_channels * shape.kernel * shape.kernel, 2);
    let bias = test_values(shape.out_channels, 3);
    let fast = run(&input, &weight, &bias);
    let slow = convolve(&shape, &input, &weight, &bias, relu);
    fast.iter().zip(&slow).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max)
}

/// Asserts that `run(kernel, channels, weight, bias)` (with the ReLU) is within 1e-4 of
/// [`convolve`] on test values, with every kernel this CPU has and with `gemm` (`None`).
#[cfg(test)]
pub(super) fn assert_matches_the_definition(
    shape: SameConv,
    run: impl Fn(Option<TileKernel>, &[super::shifted_gemm::ChannelSource], &[f32], &[f32]) -> Vec<f32>,
) {
    for kernel in available().into_iter().map(Some).chain([None]) {
        let worst = worst_difference_of(shape, true, |input, weight, bias| {
            run(kernel, &super::Source::Same(input).split(&shape), weight, bias)
        });
        assert!(worst < 1e-4, "{shape:?} with {kernel:?}: max abs difference {worst}");
    }
}

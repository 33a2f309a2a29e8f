//! Max pooling and bilinear resizing on plain `f32` planes, for the CPU engine.
//!
//! Why by hand: flex's max pool and bilinear interpolation work one output element at a time,
//! with integer divisions and f64 arithmetic per element; in a native profile of a 1024 pass
//! they took 14% of the time. Here each output row is a loop the compiler vectorises, over
//! indices and weights computed once per resize, and the rows are shared among the threads.

use crate::model::maxima::larger;

/// ISNet's 2x2, stride-2 max pool in ceil mode: the output is `ceil(h / 2) x ceil(w / 2)`, and a
/// window on the last row or column of an odd-sized input holds what is left of it.
pub fn max_pool_2x2_ceil(input: &[f32], channels: usize, height: usize, width: usize) -> Vec<f32> {
    let (out_h, out_w) = (height.div_ceil(2), width.div_ceil(2));
    let mut out = vec![0.0f32; channels * out_h * out_w];
    let row = |(index, out_row): (usize, &mut [f32])| {
        let (channel, y) = (index / out_h, index % out_h);
        let plane = &input[channel * height * width..][..height * width];
        let top = &plane[2 * y * width..][..width];
        // On an odd height the last window has one row.
        let bottom = if 2 * y + 1 < height { &plane[(2 * y + 1) * width..][..width] } else { top };
        // Four whole windows at a time, then the rest (and an odd width's last column) one by one.
        let windows = out_row.chunks_exact_mut(4).zip(top.chunks_exact(8).zip(bottom.chunks_exact(8)));
        for (out, (top, bottom)) in windows {
            pool_four(top, bottom, out);
        }
        for (x, value) in out_row.iter_mut().enumerate().skip(width / 8 * 4) {
            let left = 2 * x;
            let right = (left + 1).min(width - 1);
            *value = larger(larger(top[left], top[right]), larger(bottom[left], bottom[right]));
        }
    };
    for_each_row(&mut out, out_w, row);
    out
}

/// Four 2x2 windows: `out[i]` is the largest of `top[2i]`, `top[2i + 1]`, `bottom[2i]` and
/// `bottom[2i + 1]`, taken in the order of the scalar loop above (so the results are the same,
/// signed zeros included).
///
/// Why by hand: the compiler left the pool one scalar window at a time (bounds checks and the
/// odd edge in the loop), and in the browser it took 3.5% of a warm cutout's samples (Chrome's
/// profiler, `tests/bench/wasm-profile.mjs`). Each window's two columns are split apart by two
/// shuffles, with the vector instructions WebAssembly's SIMD and x86-64's SSE both have.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn pool_four(top: &[f32], bottom: &[f32], out: &mut [f32]) {
    use core::arch::wasm32::*;
    assert!(top.len() >= 8 && bottom.len() >= 8 && out.len() >= 4);
    // `larger` on four lanes: the first where it is greater, else the second.
    let larger4 = |a: v128, b: v128| v128_bitselect(a, b, f32x4_gt(a, b));
    // SAFETY: two vectors of four floats inside `top` and `bottom`, and one inside `out` (checked
    // above); unaligned loads and stores are allowed in WebAssembly.
    unsafe {
        let (t0, t1) = (v128_load(top.as_ptr().cast::<v128>()), v128_load(top.as_ptr().add(4).cast::<v128>()));
        let (b0, b1) = (v128_load(bottom.as_ptr().cast::<v128>()), v128_load(bottom.as_ptr().add(4).cast::<v128>()));
        let (top_left, top_right) = (i32x4_shuffle::<0, 2, 4, 6>(t0, t1), i32x4_shuffle::<1, 3, 5, 7>(t0, t1));
        let (bottom_left, bottom_right) = (i32x4_shuffle::<0, 2, 4, 6>(b0, b1), i32x4_shuffle::<1, 3, 5, 7>(b0, b1));
        let largest = larger4(larger4(top_left, top_right), larger4(bottom_left, bottom_right));
        v128_store(out.as_mut_ptr().cast::<v128>(), largest);
    }
}

/// Four 2x2 windows (see the WebAssembly version). SSE's `maxps` is `larger`: it returns its
/// second operand unless the first is greater.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pool_four(top: &[f32], bottom: &[f32], out: &mut [f32]) {
    use core::arch::x86_64::*;
    assert!(top.len() >= 8 && bottom.len() >= 8 && out.len() >= 4);
    // SAFETY: SSE is part of every x86-64 CPU; two vectors of four floats inside `top` and
    // `bottom`, and one inside `out` (checked above).
    unsafe {
        let (t0, t1) = (_mm_loadu_ps(top.as_ptr()), _mm_loadu_ps(top.as_ptr().add(4)));
        let (b0, b1) = (_mm_loadu_ps(bottom.as_ptr()), _mm_loadu_ps(bottom.as_ptr().add(4)));
        // 0b10_00_10_00: lanes 0 and 2 of each; 0b11_01_11_01: lanes 1 and 3.
        let (top_left, top_right) = (_mm_shuffle_ps::<0b10_00_10_00>(t0, t1), _mm_shuffle_ps::<0b11_01_11_01>(t0, t1));
        let (bottom_left, bottom_right) = (_mm_shuffle_ps::<0b10_00_10_00>(b0, b1), _mm_shuffle_ps::<0b11_01_11_01>(b0, b1));
        let largest = _mm_max_ps(_mm_max_ps(top_left, top_right), _mm_max_ps(bottom_left, bottom_right));
        _mm_storeu_ps(out.as_mut_ptr(), largest);
    }
}

/// Four 2x2 windows (see the WebAssembly version).
#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
#[inline(always)]
fn pool_four(top: &[f32], bottom: &[f32], out: &mut [f32]) {
    for (i, value) in out[..4].iter_mut().enumerate() {
        *value = larger(larger(top[2 * i], top[2 * i + 1]), larger(bottom[2 * i], bottom[2 * i + 1]));
    }
}

/// Bilinear resize of each `[height, width]` plane to `[out_h, out_w]` with half-pixel centres
/// (PyTorch's `align_corners = false`, ONNX's `half_pixel`): output pixel `x` samples the input
/// at `(x + 0.5) * width / out_w - 0.5`, clamped to the first and last pixels.
pub fn bilinear(input: &[f32], channels: usize, [height, width]: [usize; 2], [out_h, out_w]: [usize; 2]) -> Vec<f32> {
    bilinear_then(input, channels, [height, width], [out_h, out_w], |_| {})
}

/// `sigmoid(bilinear(...))`, each row finished while it is in cache: ISNet's last step.
pub fn sigmoid_of_bilinear(input: &[f32], channels: usize, size: [usize; 2], out_size: [usize; 2]) -> Vec<f32> {
    bilinear_then(input, channels, size, out_size, |row| row.iter_mut().for_each(|value| *value = sigmoid(*value)))
}

/// The logistic function, in the form that neither overflows nor loses the small values
/// (flex's and onnxruntime's).
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// [`bilinear`], with `then` applied to each output row.
fn bilinear_then(
    input: &[f32],
    channels: usize,
    [height, width]: [usize; 2],
    [out_h, out_w]: [usize; 2],
    then: impl Fn(&mut [f32]) + Send + Sync,
) -> Vec<f32> {
    let columns = taps(width, out_w);
    let rows = taps(height, out_h);
    let mut out = vec![0.0f32; channels * out_h * out_w];
    let row = |(index, out_row): (usize, &mut [f32])| {
        let (channel, y) = (index / out_h, index % out_h);
        let plane = &input[channel * height * width..][..height * width];
        resize_row(plane, width, rows[y], &columns, out_row);
        then(out_row);
    };
    for_each_row(&mut out, out_w, row);
    out
}

/// One output row of [`bilinear`]: input rows `row.0` and `row.1` of `plane` (`width` wide)
/// blended with weight `row.2`, each column by its [`taps`]. The convolutions call it too, to
/// upsample a decoder's input as they read it (`model::conv`), so both give the same values.
///
/// `columns` are `taps(width, out.len())`. Where the row doubles (every upsampling in ISNet at
/// the sizes it runs at), the taps repeat a pattern, which is followed without reading them: each
/// pair of neighbours `i, i + 1` gives outputs `2i + 1` (weight ¼) and `2i + 2` (weight ¾), the
/// same arithmetic as through the taps (so the same values, bit for bit), but on runs that the
/// compiler vectorises instead of one gathered pair at a time. That took 9% of a native pass.
pub fn resize_row(plane: &[f32], width: usize, (y0, y1, wy): Tap, columns: &[Tap], out: &mut [f32]) {
    debug_assert_eq!(columns.len(), out.len());
    let (top, bottom) = (&plane[y0 * width..][..width], &plane[y1 * width..][..width]);
    let blend = |(t0, t1): (f32, f32), (b0, b1): (f32, f32), wx: f32| {
        let upper = t0 + wx * (t1 - t0);
        let lower = b0 + wx * (b1 - b0);
        upper + wy * (lower - upper)
    };
    if out.len() == 2 * width && width >= 2 {
        // `taps(width, 2 * width)`: (0, 1, 0) first, (width - 1, width - 1, ¼) last.
        out[0] = blend((top[0], top[1]), (bottom[0], bottom[1]), 0.0);
        out[2 * width - 1] = blend((top[width - 1], top[width - 1]), (bottom[width - 1], bottom[width - 1]), 0.25);
        let pairs = top.iter().zip(&top[1..]).zip(bottom.iter().zip(&bottom[1..]));
        for (outputs, ((&t0, &t1), (&b0, &b1))) in out[1..2 * width - 1].chunks_exact_mut(2).zip(pairs) {
            outputs[0] = blend((t0, t1), (b0, b1), 0.25);
            outputs[1] = blend((t0, t1), (b0, b1), 0.75);
        }
        return;
    }
    for (value, &(x0, x1, wx)) in out.iter_mut().zip(columns) {
        *value = blend((top[x0], top[x1]), (bottom[x0], bottom[x1]), wx);
    }
}

/// Two input positions and the weight of the second.
pub type Tap = (usize, usize, f32);

/// For each output position along one axis: the two input positions it blends and the weight
/// of the second.
pub fn taps(input: usize, output: usize) -> Vec<Tap> {
    let scale = input as f32 / output as f32;
    (0..output)
        .map(|i| {
            let source = ((i as f32 + 0.5) * scale - 0.5).clamp(0.0, (input - 1) as f32);
            let first = (source.floor() as usize).min(input - 1);
            let second = (first + 1).min(input - 1);
            (first, second, source - first as f32)
        })
        .collect()
}

/// Calls `row` with `(index, row)` for each `width`-long row of `out`, on the thread pool where
/// there is one.
fn for_each_row(out: &mut [f32], width: usize, row: impl Fn((usize, &mut [f32])) + Send + Sync) {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        out.par_chunks_exact_mut(width).enumerate().for_each(row);
    }
    #[cfg(not(feature = "rayon"))]
    out.chunks_exact_mut(width).enumerate().for_each(row);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_takes_the_largest_of_each_window_and_keeps_the_odd_edges() {
        // One 3x5 plane: the windows are 2x2, 2x2, 2x1 on top and 1x2, 1x2, 1x1 below.
        let input = [1.0, 9.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 7.0, -1.0, 0.5, -2.0, 3.5, -3.0, 2.5];
        assert_eq!(max_pool_2x2_ceil(&input, 1, 3, 5), vec![9.0, 8.0, 4.0, 0.5, 3.5, 2.5]);
    }

    #[test]
    fn pool_of_four_windows_at_a_time_is_the_window_by_window_maximum() {
        // Widths with and without whole blocks of four windows, odd and even; two channels of
        // odd height; values of both signs, ties and signed zeros.
        for width in [1usize, 7, 8, 9, 15, 16, 17, 33, 64] {
            let (channels, height) = (2usize, 5usize);
            let input: Vec<f32> = (0..channels * height * width)
                .map(|i| match i % 13 {
                    0 => 0.0,
                    1 => -0.0,
                    k => ((i * 29 % 17) as f32 - 8.0) * if k % 2 == 0 { 0.5 } else { 1.0 },
                })
                .collect();
            let (out_h, out_w) = (height.div_ceil(2), width.div_ceil(2));
            let pooled = max_pool_2x2_ceil(&input, channels, height, width);
            for (at, &value) in pooled.iter().enumerate() {
                let (channel, y, x) = (at / (out_h * out_w), at / out_w % out_h, at % out_w);
                let pixel = |y: usize, x: usize| input[(channel * height + y.min(height - 1)) * width + x.min(width - 1)];
                let expected = larger(
                    larger(pixel(2 * y, 2 * x), pixel(2 * y, 2 * x + 1)),
                    larger(pixel(2 * y + 1, 2 * x), pixel(2 * y + 1, 2 * x + 1)),
                );
                assert_eq!(value.to_bits(), expected.to_bits(), "width {width}, channel {channel}, window ({y}, {x})");
            }
        }
    }

    #[test]
    fn doubled_rows_are_their_taps_bit_for_bit() {
        for width in [2, 3, 7, 64] {
            let plane: Vec<f32> = (0..2 * width).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
            let (top, bottom) = plane.split_at(width);
            let columns = taps(width, 2 * width);
            let mut doubled = vec![0.0; 2 * width];
            resize_row(&plane, width, (0, 1, 0.3), &columns, &mut doubled);
            let by_taps = columns.iter().map(|&(x0, x1, wx)| {
                let upper = top[x0] + wx * (top[x1] - top[x0]);
                let lower = bottom[x0] + wx * (bottom[x1] - bottom[x0]);
                upper + 0.3 * (lower - upper)
            });
            assert!(doubled.iter().zip(by_taps).all(|(a, b)| a.to_bits() == b.to_bits()), "width {width}");
        }
    }

    #[test]
    fn bilinear_doubles_with_half_pixel_centres() {
        // 1x2 -> 1x4: samples at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        assert_eq!(bilinear(&[0.0, 4.0], 1, [1, 2], [1, 4]), vec![0.0, 1.0, 3.0, 4.0]);
        // Two channels, 2x2 -> 3x3: the middle samples at 0.5, the edges clamp to the corners.
        let out = bilinear(&[0.0, 2.0, 4.0, 6.0, 1.0, 1.0, 1.0, 1.0], 2, [2, 2], [3, 3]);
        let expected = [0.0, 1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        assert!(out.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-5), "{out:?}");
    }
}

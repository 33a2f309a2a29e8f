//! Splitting a row of floats into its four phases (columns `4m`, `4m + 1`, `4m + 2`, `4m + 3`),
//! the first step of Winograd's input transform (see [`super::winograd`]).
//!
//! Why by hand: the compiler leaves this strided copy as one scalar load and store per float
//! (`perf` put it at about a third of the input transform, itself 17% of a native pass at 1024),
//! and the same copy written as a transpose of 4x4 arrays came out slower in the browser. Four
//! quads are one 4x4 transpose of vectors: four loads, eight shuffles and four stores per sixteen
//! floats, with the vector instructions that WebAssembly's SIMD and x86-64's SSE (part of every
//! x86-64 CPU) both have.

/// `phases[q][m] = quads[4m + q]` for every whole quad of `quads`; the remainder is left to the
/// caller. Each of `phases` holds at least `quads.len() / 4` floats.
pub(super) fn split(quads: &[f32], phases: [&mut [f32]; 4]) {
    let count = quads.len() / 4;
    let [p0, p1, p2, p3] = phases;
    let (p0, p1, p2, p3) = (&mut p0[..count], &mut p1[..count], &mut p2[..count], &mut p3[..count]);
    let blocks = count / 4;
    for (block, sixteen) in quads.chunks_exact(16).enumerate() {
        let at = 4 * block;
        let targets = [&mut p0[at..at + 4], &mut p1[at..at + 4], &mut p2[at..at + 4], &mut p3[at..at + 4]];
        transpose_block(sixteen, targets);
    }
    for m in 4 * blocks..count {
        (p0[m], p1[m], p2[m], p3[m]) = (quads[4 * m], quads[4 * m + 1], quads[4 * m + 2], quads[4 * m + 3]);
    }
}

/// The 4x4 transpose of `sixteen` (four rows of four) into the four `columns`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn transpose_block(sixteen: &[f32], columns: [&mut [f32]; 4]) {
    use core::arch::wasm32::*;
    assert!(sixteen.len() >= 16 && columns.iter().all(|column| column.len() >= 4));
    // SAFETY: four vectors of four floats each inside `sixteen` (checked above); unaligned loads
    // are allowed in WebAssembly.
    let [r0, r1, r2, r3] = core::array::from_fn(|i| unsafe { v128_load(sixteen.as_ptr().add(4 * i).cast::<v128>()) });
    let (t0, t1) = (i32x4_shuffle::<0, 4, 1, 5>(r0, r1), i32x4_shuffle::<2, 6, 3, 7>(r0, r1));
    let (t2, t3) = (i32x4_shuffle::<0, 4, 1, 5>(r2, r3), i32x4_shuffle::<2, 6, 3, 7>(r2, r3));
    let transposed = [
        i64x2_shuffle::<0, 2>(t0, t2),
        i64x2_shuffle::<1, 3>(t0, t2),
        i64x2_shuffle::<0, 2>(t1, t3),
        i64x2_shuffle::<1, 3>(t1, t3),
    ];
    for (column, vector) in columns.into_iter().zip(transposed) {
        // SAFETY: each column holds at least four floats (checked above).
        unsafe { v128_store(column.as_mut_ptr().cast::<v128>(), vector) };
    }
}

/// The 4x4 transpose of `sixteen` (four rows of four) into the four `columns`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn transpose_block(sixteen: &[f32], columns: [&mut [f32]; 4]) {
    use core::arch::x86_64::*;
    assert!(sixteen.len() >= 16 && columns.iter().all(|column| column.len() >= 4));
    // SAFETY: SSE is part of every x86-64 CPU; the loads read four vectors of four floats inside
    // `sixteen`, and each store writes four floats of a column (both checked above).
    unsafe {
        let [r0, r1, r2, r3] = core::array::from_fn(|i| _mm_loadu_ps(sixteen.as_ptr().add(4 * i)));
        let (t0, t1) = (_mm_unpacklo_ps(r0, r1), _mm_unpackhi_ps(r0, r1));
        let (t2, t3) = (_mm_unpacklo_ps(r2, r3), _mm_unpackhi_ps(r2, r3));
        let transposed = [_mm_movelh_ps(t0, t2), _mm_movehl_ps(t2, t0), _mm_movelh_ps(t1, t3), _mm_movehl_ps(t3, t1)];
        for (column, vector) in columns.into_iter().zip(transposed) {
            _mm_storeu_ps(column.as_mut_ptr(), vector);
        }
    }
}

/// The 4x4 transpose of `sixteen` (four rows of four) into the four `columns`.
#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
#[inline(always)]
fn transpose_block(sixteen: &[f32], columns: [&mut [f32]; 4]) {
    for (q, column) in columns.into_iter().enumerate() {
        for (m, value) in column[..4].iter_mut().enumerate() {
            *value = sixteen[4 * m + q];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_float_goes_to_its_phase() {
        for len in [0, 3, 4, 15, 16, 17, 64, 66, 515] {
            let row: Vec<f32> = (0..len).map(|i| i as f32).collect();
            let mut phases = vec![vec![-1.0f32; len / 4 + 1]; 4];
            let [a, b, c, d] = &mut phases[..] else { unreachable!() };
            split(&row, [a, b, c, d]);
            for (q, phase) in phases.iter().enumerate() {
                for (m, &value) in phase.iter().enumerate() {
                    let expected = if m < len / 4 { (4 * m + q) as f32 } else { -1.0 };
                    assert_eq!(value, expected, "length {len}, phase {q}, quad {m}");
                }
            }
        }
    }
}

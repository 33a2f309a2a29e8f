//! The register-tile kernel in WebAssembly (see [`super::register_tiles`]), with fused
//! multiply-add where the browser has relaxed SIMD.
//!
//! With the `relaxed-simd` feature (the threaded CPU worker), `madd` is `f32x4.relaxed_madd`, one
//! fused instruction on every CPU with FMA; without it, a multiply and an add as `gemm` does.
//! Single-threaded in Node (V8 11.3), on eight of ISNet's layer shapes: 19-31 GFLOP/s, 5.5 s in
//! all, against `gemm`'s 11-14 GFLOP/s and 10.4 s (without relaxed SIMD: 18-23 GFLOP/s, 6.5 s).
//!
//! Register tile: 4 output channels by 8 columns (8 accumulators, 2 input vectors, one broadcast
//! weight). Measured in Node against 4x12, 3x16, 2x24, 6x8 and 8x4: 4x12 fills the 16 vector
//! registers V8 has on x86-64 and ran 20-40% slower than 4x8.

use core::arch::wasm32::*;

use super::register_tiles::{TileKernel, tile_product};

pub const KERNEL: TileKernel = TileKernel { name: "simd128", rows: 4, columns: 8, product: tile_product };

type Vector = v128;

#[inline(always)]
fn zero() -> v128 {
    f32x4_splat(0.0)
}

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    unsafe { v128_load(p as *const v128) }
}

#[inline(always)]
unsafe fn store(p: *mut f32, v: v128) {
    unsafe { v128_store(p as *mut v128, v) }
}

#[inline(always)]
unsafe fn splat(p: *const f32) -> v128 {
    unsafe { v128_load32_splat(p as *const u32) }
}

// Only these functions are compiled for relaxed SIMD (not the whole build with RUSTFLAGS):
// flex's SIMD library does not build with it.
#[cfg(feature = "relaxed-simd")]
#[target_feature(enable = "relaxed-simd")]
#[inline]
fn madd(a: v128, b: v128, acc: v128) -> v128 {
    f32x4_relaxed_madd(a, b, acc)
}

#[cfg(not(feature = "relaxed-simd"))]
#[inline(always)]
fn madd(a: v128, b: v128, acc: v128) -> v128 {
    f32x4_add(f32x4_mul(a, b), acc)
}

tile_product!(#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))] rows: 4, vectors: 2, lanes: 4);

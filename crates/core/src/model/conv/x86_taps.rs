//! The register-tile kernels on x86-64 (see [`super::register_tiles`]), chosen at run time by
//! the CPU's instruction sets.
//!
//! AVX-512: 8 output channels by 48 columns, 24 of the 32 vector registers accumulating, 3 for
//! the input and one broadcast weight. AVX2 with FMA: 4 by 16 (8 accumulators, 2 inputs and a
//! weight in its 16 registers; at 4 by 24, which fills all 16, LLVM shuffled and spilled
//! registers in the inner loop and the kernel ran at a third of `gemm`'s speed).

use super::register_tiles::TileKernel;

pub const AVX512: TileKernel = TileKernel { name: "avx512", rows: 8, columns: 48, product: avx512::tile_product };
pub const AVX2: TileKernel = TileKernel { name: "avx2", rows: 4, columns: 16, product: avx2::tile_product };

/// A kernel module for one instruction set: its five vector operations, compiled for
/// `$feature` so that they inline into the kernel body, and the body (`tile_product!`).
macro_rules! x86_kernel {
    ($module:ident, $feature:literal, $vector:ident, zero: $zero:ident, load: $load:ident,
     store: $store:ident, splat: $splat:ident, madd: $madd:ident, $($shape:tt)*) => {
        mod $module {
            use core::arch::x86_64::*;

            use super::super::register_tiles::tile_product;

            type Vector = $vector;

            #[target_feature(enable = $feature)]
            #[inline]
            fn zero() -> Vector {
                $zero()
            }

            #[target_feature(enable = $feature)]
            #[inline]
            unsafe fn load(p: *const f32) -> Vector {
                unsafe { $load(p) }
            }

            #[target_feature(enable = $feature)]
            #[inline]
            unsafe fn store(p: *mut f32, v: Vector) {
                unsafe { $store(p, v) }
            }

            #[target_feature(enable = $feature)]
            #[inline]
            unsafe fn splat(p: *const f32) -> Vector {
                $splat(unsafe { *p })
            }

            #[target_feature(enable = $feature)]
            #[inline]
            fn madd(a: Vector, b: Vector, acc: Vector) -> Vector {
                $madd(a, b, acc)
            }

            tile_product!(#[target_feature(enable = $feature)] $($shape)*);
        }
    };
}

x86_kernel!(avx512, "avx512f", __m512, zero: _mm512_setzero_ps, load: _mm512_loadu_ps, store: _mm512_storeu_ps,
    splat: _mm512_set1_ps, madd: _mm512_fmadd_ps, rows: 8, vectors: 3, lanes: 16);
x86_kernel!(avx2, "avx2,fma", __m256, zero: _mm256_setzero_ps, load: _mm256_loadu_ps, store: _mm256_storeu_ps,
    splat: _mm256_set1_ps, madd: _mm256_fmadd_ps, rows: 4, vectors: 2, lanes: 8);

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

mod avx512 {
    use core::arch::x86_64::*;

    use super::super::register_tiles::tile_product;

    type Vector = __m512;

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn zero() -> __m512 {
        _mm512_setzero_ps()
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load(p: *const f32) -> __m512 {
        unsafe { _mm512_loadu_ps(p) }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store(p: *mut f32, v: __m512) {
        unsafe { _mm512_storeu_ps(p, v) }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn splat(p: *const f32) -> __m512 {
        _mm512_set1_ps(unsafe { *p })
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn madd(a: __m512, b: __m512, acc: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, acc)
    }

    tile_product!(#[target_feature(enable = "avx512f")] rows: 8, vectors: 3, lanes: 16);
}

mod avx2 {
    use core::arch::x86_64::*;

    use super::super::register_tiles::tile_product;

    type Vector = __m256;

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn zero() -> __m256 {
        _mm256_setzero_ps()
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn load(p: *const f32) -> __m256 {
        unsafe { _mm256_loadu_ps(p) }
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn store(p: *mut f32, v: __m256) {
        unsafe { _mm256_storeu_ps(p, v) }
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn splat(p: *const f32) -> __m256 {
        unsafe { _mm256_broadcast_ss(&*p) }
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn madd(a: __m256, b: __m256, acc: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, acc)
    }

    tile_product!(#[target_feature(enable = "avx2,fma")] rows: 4, vectors: 2, lanes: 8);
}

//! The larger of two floats, and the ReLU, written as a comparison and a choice.
//!
//! Why not `f32::max`: Rust's `max` ignores a NaN operand, WebAssembly's `f32.max` and
//! `f32x4.max` return it, so for WebAssembly LLVM compiles every `f32::max` to a call of libm's
//! `fmaxf`, one lane at a time, even inside a loop it otherwise vectorises (`rustc --target
//! wasm32-unknown-unknown -C target-feature=+simd128 --emit asm`). The ReLU of every convolution
//! output and the max pool ran that way in the browser. A comparison and a choice is one
//! `f32x4.gt` and a select on four lanes (and `maxss`-like code natively). For the numbers the
//! network makes they give the same results; a NaN operand is not one of them.

/// `a` if it is larger than `b`, else `b`.
#[inline(always)]
pub fn larger(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
}

/// `x` if it is positive, else zero.
#[inline(always)]
pub fn relu(x: f32) -> f32 {
    larger(x, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_the_standard_maximum_on_numbers() {
        let values = [-3.5f32, -1e-30, -0.0, 0.0, 1e-30, 2.25, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN];
        for &a in &values {
            assert_eq!(relu(a), a.max(0.0), "relu({a})");
            for &b in &values {
                assert_eq!(larger(a, b), a.max(b), "larger({a}, {b})");
            }
        }
    }
}

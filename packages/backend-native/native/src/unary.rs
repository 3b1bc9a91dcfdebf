//! The unary kernel. float32 ops compute like backend-js (in float64, rounded once), except
//! exp / tanh / sigmoid on contiguous rows, which use AVX2 polynomials (≈1 ulp) when
//! available. int32 computes the ops that are exact on integers; `not` works on any dtype;
//! other dtype combinations go through float32.

use crate::cpu;
use crate::elementwise::{map1, out_threads, row1, GRAIN, GRAIN_HEAVY};
use crate::math::*;
use crate::pool;
use crate::view::{check_same_shape, DType, Iter, Res, View};

pub const NEG: i64 = 0;
pub const ABS: i64 = 1;
pub const SIGN: i64 = 2;
pub const EXP: i64 = 3;
pub const EXPM1: i64 = 4;
pub const LOG: i64 = 5;
pub const LOG1P: i64 = 6;
pub const SQRT: i64 = 7;
pub const RSQRT: i64 = 8;
pub const SQUARE: i64 = 9;
pub const RECIPROCAL: i64 = 10;
pub const SIN: i64 = 11;
pub const COS: i64 = 12;
pub const TANH: i64 = 13;
pub const SIGMOID: i64 = 14;
pub const ERF: i64 = 15;
pub const FLOOR: i64 = 16;
pub const CEIL: i64 = 17;
pub const ROUND: i64 = 18;
pub const RELU: i64 = 19;
pub const NOT: i64 = 20;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SimdOp {
    Exp,
    Tanh,
    Sigmoid,
}

fn scalar_of(op: SimdOp) -> fn(f64) -> f64 {
    match op {
        SimdOp::Exp => f64::exp,
        SimdOp::Tanh => f64::tanh,
        SimdOp::Sigmoid => sigmoid,
    }
}

/// `dst[i] = op(src[i])` for `n` contiguous elements; `src` may equal `dst`.
pub unsafe fn simd_map(op: SimdOp, src: *const f32, dst: *mut f32, n: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if cpu::avx2() {
            return simd_map_avx2(op, src, dst, n);
        }
    }
    let f = scalar_of(op);
    for i in 0..n {
        *dst.add(i) = f(*src.add(i) as f64) as f32;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn simd_map_avx2(op: SimdOp, src: *const f32, dst: *mut f32, n: usize) {
    use crate::math::simd::*;
    use std::arch::x86_64::*;
    macro_rules! lanes {
        ($f:ident) => {{
            let mut i = 0;
            while i + 8 <= n {
                _mm256_storeu_ps(dst.add(i), $f(_mm256_loadu_ps(src.add(i))));
                i += 8;
            }
            if i < n {
                let mut t = [0f32; 8];
                std::ptr::copy_nonoverlapping(src.add(i), t.as_mut_ptr(), n - i);
                _mm256_storeu_ps(t.as_mut_ptr(), $f(_mm256_loadu_ps(t.as_ptr())));
                std::ptr::copy_nonoverlapping(t.as_ptr(), dst.add(i), n - i);
            }
        }};
    }
    match op {
        SimdOp::Exp => lanes!(exp8),
        SimdOp::Tanh => lanes!(tanh8),
        SimdOp::Sigmoid => lanes!(sigmoid8),
    }
}

/// One float32 unary op on one value (float64 inside, like backend-js).
#[inline(always)]
fn un_f32(op: i64, x: f32) -> f32 {
    let d = x as f64;
    match op {
        NEG => -x,
        ABS => x.abs(),
        SIGN => sign(x),
        EXP => d.exp() as f32,
        EXPM1 => d.exp_m1() as f32,
        LOG => d.ln() as f32,
        LOG1P => d.ln_1p() as f32,
        SQRT => x.sqrt(),
        RSQRT => (1.0 / d.sqrt()) as f32,
        SQUARE => x * x,
        RECIPROCAL => 1.0 / x,
        SIN => d.sin() as f32,
        COS => d.cos() as f32,
        TANH => d.tanh() as f32,
        SIGMOID => sigmoid(d) as f32,
        ERF => erf(d) as f32,
        FLOOR => x.floor(),
        CEIL => x.ceil(),
        ROUND => round_even(x),
        RELU => {
            if x < 0.0 {
                0.0
            } else {
                x
            }
        }
        _ => (x == 0.0) as u8 as f32, // NOT
    }
}

fn f32_op(op: i64, x: &View, out: &View, t: usize) -> Res<()> {
    macro_rules! m {
        ($f:expr) => {
            map1::<f32, f32, _>(x, out, t, GRAIN, $f)
        };
        ($f:expr, heavy) => {
            map1::<f32, f32, _>(x, out, t, GRAIN_HEAVY, $f)
        };
    }
    match op {
        NEG => m!(|v: f32| -v),
        ABS => m!(|v: f32| v.abs()),
        SIGN => m!(sign),
        EXP => simd_or(SimdOp::Exp, x, out, t),
        TANH => simd_or(SimdOp::Tanh, x, out, t),
        SIGMOID => simd_or(SimdOp::Sigmoid, x, out, t),
        EXPM1 => m!(|v: f32| (v as f64).exp_m1() as f32, heavy),
        LOG => m!(|v: f32| (v as f64).ln() as f32, heavy),
        LOG1P => m!(|v: f32| (v as f64).ln_1p() as f32, heavy),
        SQRT => m!(|v: f32| v.sqrt()),
        RSQRT => m!(|v: f32| (1.0 / (v as f64).sqrt()) as f32),
        SQUARE => m!(|v: f32| v * v),
        RECIPROCAL => m!(|v: f32| 1.0 / v),
        SIN => m!(|v: f32| (v as f64).sin() as f32, heavy),
        COS => m!(|v: f32| (v as f64).cos() as f32, heavy),
        ERF => m!(|v: f32| erf(v as f64) as f32, heavy),
        FLOOR => m!(|v: f32| v.floor()),
        CEIL => m!(|v: f32| v.ceil()),
        ROUND => m!(round_even),
        RELU => m!(|v: f32| if v < 0.0 { 0.0 } else { v }),
        NOT => m!(|v: f32| (v == 0.0) as u8 as f32),
        _ => Err(format!("unknown unary op code {op}")),
    }
}

/// exp / tanh / sigmoid: vector polynomials on contiguous rows, float64 libm elsewhere.
fn simd_or(op: SimdOp, x: &View, out: &View, threads: usize) -> Res<()> {
    let it = Iter::of([x, out]);
    let [sx, so] = it.steps();
    let f = scalar_of(op);
    pool::par_ranges(it.total(), GRAIN / 2, out_threads(out, threads), &|s, e| {
        it.walk(s, e, |o, n| unsafe {
            if sx == 1 && so == 1 {
                simd_map(op, x.at(o[0]), out.at(o[1]), n)
            } else {
                row1::<f32, f32, _>(x.at(o[0]), sx, out.at(o[1]), so, n, |v| f(v as f64) as f32)
            }
        })
    })
}

/// `out = op(x)` element-wise.
pub fn unary(op: i64, x: &View, out: &View, threads: usize) -> Res<()> {
    check_same_shape(x, out, "unary")?;
    if !(0..=NOT).contains(&op) {
        return Err(format!("unknown unary op code {op}"));
    }
    if out.size == 0 {
        return Ok(());
    }
    let t = threads;
    use DType::*;
    match (x.dt, out.dt) {
        (F32, F32) => f32_op(op, x, out, t),
        (I32, I32) if matches!(op, NEG | ABS | SIGN | SQUARE | FLOOR | CEIL | ROUND | RELU | NOT) => {
            macro_rules! m {
                ($f:expr) => {
                    map1::<i32, i32, _>(x, out, t, GRAIN, $f)
                };
            }
            match op {
                NEG => m!(|v: i32| v.wrapping_neg()),
                ABS => m!(|v: i32| v.wrapping_abs()),
                SIGN => m!(|v: i32| v.signum()),
                SQUARE => m!(|v: i32| v.wrapping_mul(v)),
                RELU => m!(|v: i32| v.max(0)),
                NOT => m!(|v: i32| (v == 0) as i32),
                _ => m!(|v: i32| v), // floor, ceil, round
            }
        }
        (Bool, Bool) if op == NOT => map1::<u8, u8, _>(x, out, t, GRAIN, |v| (v == 0) as u8),
        _ => {
            // `not` on any dtype compares with zero; every other op goes through float32.
            macro_rules! via {
                ($a:ty, $load:expr) => {
                    match out.dt {
                        F32 => map1::<$a, f32, _>(x, out, t, GRAIN_HEAVY, move |v| if op == NOT { ($load(v) == 0.0) as u8 as f32 } else { un_f32(op, $load(v)) }),
                        I32 => map1::<$a, i32, _>(x, out, t, GRAIN_HEAVY, move |v| if op == NOT { ($load(v) == 0.0) as i32 } else { to_int32_sat(un_f32(op, $load(v)) as f64) }),
                        Bool => map1::<$a, u8, _>(x, out, t, GRAIN_HEAVY, move |v| if op == NOT { ($load(v) == 0.0) as u8 } else { (un_f32(op, $load(v)) != 0.0) as u8 }),
                    }
                };
            }
            match x.dt {
                F32 => via!(f32, |v: f32| v),
                I32 => via!(i32, |v: i32| v as f32),
                Bool => via!(u8, |v: u8| v as f32),
            }
        }
    }
}

//! Scalar math with the exact semantics the contract (and backend-js) defines, plus AVX2
//! versions of the few transcendentals that dominate training (exp, tanh, sigmoid).

const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
const INV_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI / 2.0;

/// The error function to about 1e-12 relative error (series below |x| = 2, continued
/// fraction above), the same algorithm backend-js uses.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax < 2.0 {
        let x2 = ax * ax;
        let mut term = ax;
        let mut sum = ax;
        for n in 1..64 {
            term *= (2.0 * x2) / (2 * n + 1) as f64;
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        let r = TWO_OVER_SQRT_PI * (-x2).exp() * sum;
        return if x < 0.0 { -r } else { r };
    }
    if ax >= 6.0 {
        return if x < 0.0 { -1.0 } else { 1.0 };
    }
    let x2 = ax * ax;
    let mut f = 2.0 * x2 + 49.0;
    for n in (1..=12).rev() {
        let n = n as f64;
        f = 2.0 * x2 + 4.0 * n - 3.0 - ((2.0 * n - 1.0) * (2.0 * n)) / f;
    }
    let r = 1.0 - ((-x2).exp() * INV_SQRT_PI) * 2.0 * ax / f;
    if x < 0.0 {
        -r
    } else {
        r
    }
}

#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[inline]
pub fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

/// float → int32: truncates, NaN → 0, saturates.
#[inline]
pub fn to_int32_sat(x: f64) -> i32 {
    x as i32 // Rust's `as` is exactly this
}

/// JavaScript's ToInt32 (what storing a number into an Int32Array does): modular.
#[inline]
pub fn js_to_int32(x: f64) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    if x.abs() < 2147483648.0 {
        return x as i32;
    }
    let t = x.trunc();
    let m = t.rem_euclid(4294967296.0);
    m as u32 as i32
}

/// JS `Math.sign`.
#[inline]
pub fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x // ±0 and NaN
    }
}

/// JS `Math.max` (NaN propagates; +0 beats -0).
#[inline]
pub fn jmax(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else if b > a {
        b
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else {
        f64::NAN
    }
}

/// JS `Math.min` (NaN propagates; -0 beats +0).
#[inline]
pub fn jmin(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else if b < a {
        b
    } else if a == b {
        f64::from_bits(a.to_bits() | b.to_bits())
    } else {
        f64::NAN
    }
}

#[inline]
pub fn fmax32(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else if b > a {
        b
    } else if a == b {
        f32::from_bits(a.to_bits() & b.to_bits())
    } else {
        f32::NAN
    }
}

#[inline]
pub fn fmin32(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else if b < a {
        b
    } else if a == b {
        f32::from_bits(a.to_bits() | b.to_bits())
    } else {
        f32::NAN
    }
}

/// JS `Math.pow` (differs from C `pow` for a base of ±1 with a NaN/infinite exponent).
#[inline]
pub fn js_pow(a: f64, b: f64) -> f64 {
    if b.is_nan() || (a.abs() == 1.0 && b.is_infinite()) {
        return f64::NAN;
    }
    a.powf(b)
}

/// Floored float modulo (the result takes the divisor's sign; `x mod 0` is NaN).
#[inline]
pub fn float_mod(a: f64, b: f64) -> f64 {
    let mut r = a % b;
    if r != 0.0 {
        if (r < 0.0) != (b < 0.0) {
            r += b;
        }
    } else if !r.is_nan() {
        r = if b < 0.0 { -0.0 } else { 0.0 };
    }
    r
}

/// Floored int32 modulo; `x mod 0` is 0.
#[inline]
pub fn int_mod(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let r = (a as i64 % b as i64) as i32;
    if r != 0 && ((r < 0) != (b < 0)) {
        r.wrapping_add(b)
    } else {
        r
    }
}

/// Floored int32 division; `x / 0` is 0; wraps like an Int32Array store.
#[inline]
pub fn int_div(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let (a, b) = (a as i64, b as i64);
    let mut q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q -= 1;
    }
    q as i32
}

/// int32 `pow`: `Math.pow` of the integers, truncated to int32 like an Int32Array store.
/// Exact integer powers are computed exactly, then rounded to float64 once (what a
/// correctly rounded `Math.pow` returns).
pub fn int_pow(a: i32, b: i32) -> i32 {
    if b < 0 {
        return js_to_int32(js_pow(a as f64, b as f64));
    }
    let mut acc: i128 = 1;
    let base = a as i128;
    for _ in 0..b {
        match acc.checked_mul(base) {
            Some(v) if v.unsigned_abs() < (1u128 << 100) => acc = v,
            _ => return js_to_int32(js_pow(a as f64, b as f64)),
        }
        if acc == 0 || acc == 1 && base == 1 {
            break;
        }
    }
    if base == -1 {
        acc = if b % 2 == 0 { 1 } else { -1 };
    }
    js_to_int32(acc as f64)
}

/// Round half to even.
#[inline]
pub fn round_even(x: f32) -> f32 {
    x.round_ties_even()
}

// ---------------------------------------------------------------------------------------
// AVX2 transcendentals on 8 lanes. exp: Cody-Waite range reduction and a degree-7
// polynomial (max relative error ≈ 1 ulp over the float range, denormal results
// included through a two-step scale); tanh and sigmoid built on it.

#[cfg(target_arch = "x86_64")]
pub mod simd {
    use std::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp8(x: __m256) -> __m256 {
        let log2e = _mm256_set1_ps(std::f32::consts::LOG2_E);
        let ln2_hi = _mm256_set1_ps(0.693_145_75);
        let ln2_lo = _mm256_set1_ps(1.428_606_8e-6);
        // clamp to where the result is 0 / inf anyway
        let xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-110.0)), _mm256_set1_ps(89.0));
        let n = _mm256_round_ps(_mm256_mul_ps(xc, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        let r = _mm256_fnmadd_ps(n, ln2_hi, xc);
        let r = _mm256_fnmadd_ps(n, ln2_lo, r);
        // e^r on |r| <= ln2/2
        let mut p = _mm256_set1_ps(1.0 / 5040.0);
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0 / 720.0));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0 / 120.0));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0 / 24.0));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0 / 6.0));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0));
        // 2^n in two halves so that n in [-150, 128] stays representable
        let ni = _mm256_cvtps_epi32(n);
        let h1 = _mm256_srai_epi32(ni, 1);
        let h2 = _mm256_sub_epi32(ni, h1);
        let s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h1, _mm256_set1_epi32(127)), 23));
        let s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h2, _mm256_set1_epi32(127)), 23));
        let y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
        // NaN passes through
        let nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
        _mm256_blendv_ps(y, x, nan)
    }

    /// 1/(1+e^-x).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sigmoid8(x: __m256) -> __m256 {
        let e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
        _mm256_div_ps(_mm256_set1_ps(1.0), _mm256_add_ps(_mm256_set1_ps(1.0), e))
    }

    /// tanh: odd polynomial near 0 (where 1 - 2/(e^2x+1) would cancel), else through exp.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::excessive_precision)]
    pub unsafe fn tanh8(x: __m256) -> __m256 {
        let sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0));
        let ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0), x);
        // large: 1 - 2/(e^{2|x|}+1)
        let e = exp8(_mm256_mul_ps(_mm256_min_ps(ax, _mm256_set1_ps(20.0)), _mm256_set1_ps(2.0)));
        let big = _mm256_sub_ps(_mm256_set1_ps(1.0), _mm256_div_ps(_mm256_set1_ps(2.0), _mm256_add_ps(e, _mm256_set1_ps(1.0))));
        // small (|x| < 0.625): x + x^3 P(x^2), minimax (Cephes tanhf; its decimal coefficients, rounded to f32)
        let z = _mm256_mul_ps(ax, ax);
        let mut p = _mm256_set1_ps(-5.704_988_727_45e-3);
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.063_908_879_54e-2));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.373_971_555_31e-2));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.333_144_220_36e-1));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.333_328_194_22e-1));
        let small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), ax, ax);
        let is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625), _CMP_LT_OQ);
        let r = _mm256_blendv_ps(big, small, is_small);
        let r = _mm256_or_ps(r, sign);
        let nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
        _mm256_blendv_ps(r, x, nan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_semantics() {
        assert_eq!(js_to_int32(4294967297.0), 1);
        assert_eq!(js_to_int32(-2147483649.0), 2147483647);
        assert_eq!(js_to_int32(f64::INFINITY), 0);
        assert_eq!(to_int32_sat(1e10), i32::MAX);
        assert_eq!(to_int32_sat(f64::NAN), 0);
        assert_eq!(int_div(-7, 2), -4);
        assert_eq!(int_div(i32::MIN, -1), i32::MIN);
        assert_eq!(int_mod(-7, 3), 2);
        assert_eq!(int_mod(7, -3), -2);
        assert_eq!(int_mod(5, 0), 0);
        assert!(float_mod(1.0, 0.0).is_nan());
        assert_eq!(float_mod(-1.0, 3.0), 2.0);
        assert!(float_mod(-3.0, 3.0) == 0.0 && !float_mod(-3.0, 3.0).is_sign_negative());
        assert!(float_mod(3.0, -3.0).is_sign_negative());
        assert_eq!(int_pow(2, 10), 1024);
        assert_eq!(int_pow(2, 32), 0);
        assert_eq!(int_pow(-3, 3), -27);
        assert_eq!(int_pow(2, -1), 0);
        assert_eq!(int_pow(0, -1), 0);
        assert_eq!(int_pow(-1, 7), -1);
        assert_eq!(int_pow(3, 40), js_to_int32(3f64.powi(40)));
        assert!(js_pow(1.0, f64::NAN).is_nan());
        assert!(js_pow(-1.0, f64::INFINITY).is_nan());
        assert_eq!(js_pow(f64::NAN, 0.0), 1.0);
        assert!(jmax(-0.0, 0.0).is_sign_positive());
        assert!(jmin(0.0, -0.0).is_sign_negative());
        assert!(jmax(1.0, f64::NAN).is_nan());
        assert_eq!(round_even(2.5), 2.0);
        assert_eq!(round_even(-1.5), -2.0);
        assert!((erf(1.0) - 0.8427007929497149).abs() < 1e-15);
        assert!((erf(2.5) - 0.999_593_047_982_555).abs() < 1e-13);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_transcendentals() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            return;
        }
        use std::arch::x86_64::*;
        let mut worst = [0f64; 3];
        let mut x = -110.0f32;
        while x < 100.0 {
            let v = [x, x * 0.5, x * 0.01, -x * 0.003, x + 0.25, x * 1e-4, -x, x * 0.77];
            let mut o = [[0f32; 8]; 3];
            unsafe {
                let xv = _mm256_loadu_ps(v.as_ptr());
                _mm256_storeu_ps(o[0].as_mut_ptr(), simd::exp8(xv));
                _mm256_storeu_ps(o[1].as_mut_ptr(), simd::tanh8(xv));
                _mm256_storeu_ps(o[2].as_mut_ptr(), simd::sigmoid8(xv));
            }
            for i in 0..8 {
                let xi = v[i] as f64;
                let refs = [xi.exp(), xi.tanh(), sigmoid(xi)];
                for k in 0..3 {
                    let r = refs[k] as f32 as f64;
                    let g = o[k][i] as f64;
                    let err = if r == g { 0.0 } else { (g - r).abs() / r.abs().max(1e-30) };
                    // allow absolute error 1e-6 (the suite's atol) for tiny results
                    if (g - r).abs() > 1e-7 {
                        worst[k] = worst[k].max(err);
                    }
                }
            }
            x += 0.0137;
        }
        assert!(worst[0] < 5e-7, "exp rel err {}", worst[0]);
        assert!(worst[1] < 5e-7, "tanh rel err {}", worst[1]);
        assert!(worst[2] < 5e-7, "sigmoid rel err {}", worst[2]);
        unsafe {
            let mut o = [0f32; 8];
            let v = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, 88.7, -87.0, -103.0];
            _mm256_storeu_ps(o.as_mut_ptr(), simd::exp8(_mm256_loadu_ps(v.as_ptr())));
            assert!(o[0].is_nan());
            assert_eq!(o[1], f32::INFINITY);
            assert_eq!(o[2], 0.0);
            assert_eq!(o[3], 1.0);
            let e = (88.7f32 as f64).exp();
            assert!((o[5] as f64 - e).abs() / e < 1e-6);
            assert!(o[7] > 0.0 && ((o[7] as f64) - (-103f64).exp()).abs() < 1e-44);
            _mm256_storeu_ps(o.as_mut_ptr(), simd::tanh8(_mm256_loadu_ps(v.as_ptr())));
            assert!(o[0].is_nan());
            assert_eq!(o[1], 1.0);
            assert_eq!(o[2], -1.0);
            assert!(o[4] == 0.0 && o[4].is_sign_negative());
        }
    }
}

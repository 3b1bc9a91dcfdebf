//! Run-time CPU feature detection, cached. `TESSERA_NATIVE_NO_SIMD=1` forces the portable
//! kernels (for testing the fallback on a machine that has AVX2).

use std::sync::atomic::{AtomicU8, Ordering};

static AVX2: AtomicU8 = AtomicU8::new(2);
static AVX512: AtomicU8 = AtomicU8::new(2);

fn disabled() -> bool {
    std::env::var_os("TESSERA_NATIVE_NO_SIMD").is_some_and(|v| v != "0" && !v.is_empty())
}

/// AVX2 and FMA are both available (and not disabled).
#[inline]
pub fn avx2() -> bool {
    match AVX2.load(Ordering::Relaxed) {
        0 => false,
        1 => true,
        _ => {
            #[cfg(target_arch = "x86_64")]
            let yes = !disabled() && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
            #[cfg(not(target_arch = "x86_64"))]
            let yes = false;
            AVX2.store(yes as u8, Ordering::Relaxed);
            yes
        }
    }
}

/// AVX-512F is available (and not disabled): the GEMM micro-kernel uses it; the other
/// kernels use AVX2.
pub fn avx512() -> bool {
    match AVX512.load(Ordering::Relaxed) {
        0 => false,
        1 => true,
        _ => {
            #[cfg(target_arch = "x86_64")]
            let yes = !disabled() && is_x86_feature_detected!("avx512f");
            #[cfg(not(target_arch = "x86_64"))]
            let yes = false;
            AVX512.store(yes as u8, Ordering::Relaxed);
            yes
        }
    }
}

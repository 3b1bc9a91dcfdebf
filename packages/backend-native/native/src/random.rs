//! Counter-based random bits: threefry2x32 with 20 rounds (Random123), bit-exact with every
//! other Tessera backend.

use crate::elementwise::{out_threads, GRAIN};
use crate::pool;
use crate::view::{DType, Iter, Res, View};

const PARITY: u32 = 0x1BD1_1BDA;
const ROT: [u32; 8] = [13, 15, 26, 6, 17, 29, 16, 24];

/// threefry2x32-20: encrypts the block `(x0, x1)` under the key `(k0, k1)`.
#[inline(always)]
pub fn threefry2x32(k0: u32, k1: u32, x0: u32, x1: u32) -> (u32, u32) {
    let ks = [k0, k1, k0 ^ k1 ^ PARITY];
    let (mut x0, mut x1) = (x0.wrapping_add(k0), x1.wrapping_add(k1));
    for block in 0..5u32 {
        for r in 0..4 {
            x0 = x0.wrapping_add(x1);
            x1 = x1.rotate_left(ROT[((block % 2) * 4 + r) as usize]) ^ x0;
        }
        let s = block + 1;
        x0 = x0.wrapping_add(ks[(s % 3) as usize]);
        x1 = x1.wrapping_add(ks[((s + 1) % 3) as usize]).wrapping_add(s);
    }
    (x0, x1)
}

/// Fills `out` (int32: raw bits; float32: `(bits >>> 8)·2^-24`): block `j` encrypts the
/// 64-bit counter `counter + j` (low word first) and yields elements `2j` and `2j+1`, in
/// `out`'s row-major order.
pub fn random_bits(key: [u32; 2], counter: f64, out: &View, threads: usize) -> Res<()> {
    if !(counter >= 0.0 && counter.fract() == 0.0 && counter < 18446744073709551616.0) {
        return Err(format!("randomBits: counter must be a non-negative integer, got {counter}"));
    }
    if out.dt == DType::Bool {
        return Err("randomBits: out must be int32 or float32".into());
    }
    if out.size == 0 {
        return Ok(());
    }
    let c0 = counter as u64;
    let float = out.dt == DType::F32;
    let it = Iter::<1>::of([out]);
    let [so] = it.steps();
    pool::par_ranges(it.total(), GRAIN / 4, out_threads(out, threads), &|s, e| {
        let mut i = s;
        let mut pair = (0u32, 0u32);
        let mut have = u64::MAX;
        it.walk(s, e, |o, n| unsafe {
            for q in 0..n {
                let j = (i / 2) as u64;
                if j != have {
                    let c = c0.wrapping_add(j);
                    pair = threefry2x32(key[0], key[1], c as u32, (c >> 32) as u32);
                    have = j;
                }
                let bits = if i % 2 == 0 { pair.0 } else { pair.1 };
                let at = o[0] + q as isize * so;
                if float {
                    *out.at::<f32>(at) = (bits >> 8) as f32 * (1.0 / 16777216.0);
                } else {
                    *out.at::<u32>(at) = bits;
                }
                i += 1;
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // Random123 known-answer vectors for threefry2x32_20
        assert_eq!(threefry2x32(0, 0, 0, 0), (0x6b200159, 0x99ba4efe));
        assert_eq!(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0x1cb996fc, 0xbb002be7));
        assert_eq!(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3), (0xc4923a9c, 0x483df7a0));
    }
}

// threefry2x32 with 20 rounds (Random123), four blocks per SIMD step. Block j encrypts the
// 64-bit counter `counter + j` (low word first) and yields elements 2j and 2j+1.

@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

@inline function rotl(x: v128, r: i32): v128 { return v128.or(i32x4.shl(x, r), i32x4.shr_u(x, 32 - r)); }
@inline function rnd(x0: v128, x1: v128, r: i32): v128 { return v128.xor(rotl(x1, r), x0); }

/**
 * [k0, k1, ctrLo, ctrHi, o, n, float]: n elements into o (int32 raw bits, or float32
 * `(bits >>> 8)·2^-24` when `float`). The counter is that of element 0 (n even unless last).
 */
export function threefry_p(p: usize): void {
  const k0 = arg(p, 0), k1 = arg(p, 1);
  const ctr = ((<u64>arg(p, 3) & 0xFFFFFFFF) << 32) | (<u64>arg(p, 2) & 0xFFFFFFFF);
  const o = <usize>arg(p, 4), n = arg(p, 5), flt = arg(p, 6) != 0;
  const k2 = k0 ^ k1 ^ 0x1BD11BDA;
  const K0 = i32x4.splat(k0), K1 = i32x4.splat(k1), K2 = i32x4.splat(k2);
  const blocks = (n + 1) >> 1;
  const scale = f32x4.splat(5.9604644775390625e-8);
  for (let j = 0; j < blocks; j += 4) {
    const c0 = ctr + <u64>j, c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3;
    let lo = i32x4.splat(<i32>c0);
    lo = i32x4.replace_lane(lo, 1, <i32>c1); lo = i32x4.replace_lane(lo, 2, <i32>c2); lo = i32x4.replace_lane(lo, 3, <i32>c3);
    let hi = i32x4.splat(<i32>(c0 >> 32));
    hi = i32x4.replace_lane(hi, 1, <i32>(c1 >> 32)); hi = i32x4.replace_lane(hi, 2, <i32>(c2 >> 32)); hi = i32x4.replace_lane(hi, 3, <i32>(c3 >> 32));
    let x0 = i32x4.add(lo, K0), x1 = i32x4.add(hi, K1);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 13);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 15);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 26);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 6);
    x0 = i32x4.add(x0, K1); x1 = i32x4.add(x1, i32x4.add(K2, i32x4.splat(1)));
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 17);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 29);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 16);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 24);
    x0 = i32x4.add(x0, K2); x1 = i32x4.add(x1, i32x4.add(K0, i32x4.splat(2)));
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 13);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 15);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 26);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 6);
    x0 = i32x4.add(x0, K0); x1 = i32x4.add(x1, i32x4.add(K1, i32x4.splat(3)));
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 17);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 29);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 16);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 24);
    x0 = i32x4.add(x0, K1); x1 = i32x4.add(x1, i32x4.add(K2, i32x4.splat(4)));
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 13);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 15);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 26);
    x0 = i32x4.add(x0, x1); x1 = rnd(x0, x1, 6);
    x0 = i32x4.add(x0, K2); x1 = i32x4.add(x1, i32x4.add(K0, i32x4.splat(5)));
    let e0 = v128.shuffle<i32>(x0, x1, 0, 4, 1, 5), e1 = v128.shuffle<i32>(x0, x1, 2, 6, 3, 7);
    if (flt) {
      e0 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(e0, 8)), scale);
      e1 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(e1, 8)), scale);
    }
    const base = 2 * j;
    const q = o + (<usize>base << 2);
    if (base + 8 <= n) {
      v128.store(q, e0);
      v128.store(q, e1, 16);
    } else {
      for (let t = 0; t < 8 && base + t < n; t++) {
        let v: i32;
        switch (t) {
          case 0: v = i32x4.extract_lane(e0, 0); break;
          case 1: v = i32x4.extract_lane(e0, 1); break;
          case 2: v = i32x4.extract_lane(e0, 2); break;
          case 3: v = i32x4.extract_lane(e0, 3); break;
          case 4: v = i32x4.extract_lane(e1, 0); break;
          case 5: v = i32x4.extract_lane(e1, 1); break;
          case 6: v = i32x4.extract_lane(e1, 2); break;
          default: v = i32x4.extract_lane(e1, 3);
        }
        store<i32>(q + (<usize>t << 2), v);
      }
    }
  }
}

// Row kernels of the fused ops: softmax / log-softmax, softmax cross-entropy, layer norm,
// and the in-place optimizer step. Each mirrors the core's reference decomposition, so the
// fused and unfused results agree to float32 rounding.
import { vexp, splat } from './vmath';
import { sumF32, maxF32 } from './reduce';

@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline function argf(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }

/** Σ exp(x − shift) over n floats (float64 total); writes the exponentials to `e` when e ≠ 0. */
function sumExp(x: usize, n: i32, shift: f32, e: usize): f64 {
  const s = f32x4.splat(shift);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const v = vexp(f32x4.sub(v128.load(x + k), s));
    if (e != 0) v128.store(e + k, v);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
  }
  a0 = f64x2.add(a0, a1);
  let t = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  for (; i < n; i++) {
    const k = <usize>i << 2;
    const v = f32x4.extract_lane(vexp(f32x4.splat(load<f32>(x + k) - shift)), 0);
    if (e != 0) store<f32>(e + k, v);
    t += <f64>v;
  }
  return t;
}

/** The shift the core's logSumExp uses: the row max when finite, else 0. */
@inline function lseShift(x: usize, n: i32): f32 {
  const m = maxF32(x, n, true);
  return (m - m == 0) ? m : 0; // isFinite(m)
}

function softmaxRows(r0: i32, r1: i32, n: i32, x: usize, o: usize, log: bool): void {
  for (let r = r0; r < r1; r++) {
    const xr = x + (<usize>(r * n) << 2), or = o + (<usize>(r * n) << 2);
    if (log) {
      // (x − shift) − log Σ exp(x − shift): as the core's x − logSumExp(x), without rounding
      // log Σ + shift to float32 first.
      const shift = lseShift(xr, n);
      const ls = <f32>Math.log(sumExp(xr, n, shift, 0));
      const sv = f32x4.splat(shift), lv = f32x4.splat(ls);
      let i = 0;
      for (; i + 4 <= n; i += 4) { const k = <usize>i << 2; v128.store(or + k, f32x4.sub(f32x4.sub(v128.load(xr + k), sv), lv)); }
      for (; i < n; i++) { const k = <usize>i << 2; store<f32>(or + k, (load<f32>(xr + k) - shift) - ls); }
    } else {
      const m = maxF32(xr, n, true);
      const s = f32x4.splat(<f32>sumExp(xr, n, m, or));
      let i = 0;
      for (; i + 4 <= n; i += 4) { const k = <usize>i << 2; v128.store(or + k, f32x4.div(v128.load(or + k), s)); }
      for (; i < n; i++) { const k = <usize>i << 2; store<f32>(or + k, load<f32>(or + k) / f32x4.extract_lane(s, 0)); }
    }
  }
}
/** [r0, r1, n, x, o, log] */
export function softmax_p(p: usize): void {
  softmaxRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5) != 0);
}

function sceRows(r0: i32, r1: i32, n: i32, x: usize, y: usize, o: usize): void {
  for (let r = r0; r < r1; r++) {
    const xr = x + (<usize>(r * n) << 2), yr = y + (<usize>(r * n) << 2);
    const shift = lseShift(xr, n);
    const l = <f32>Math.log(sumExp(xr, n, shift, 0));
    let s: f64 = 0;
    for (let i = 0; i < n; i++) {
      const k = <usize>i << 2;
      const ls: f32 = (load<f32>(xr + k) - shift) - l;
      s += <f64>(load<f32>(yr + k) * ls);
    }
    store<f32>(o + (<usize>r << 2), -<f32>s);
  }
}
/** [r0, r1, n, logits, labels, o]: o[r] = −Σ labels · logSoftmax(logits). */
export function sce_p(p: usize): void {
  sceRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5));
}

function layerNormRows(r0: i32, r1: i32, n: i32, x: usize, g: usize, b: usize, eps: f32, o: usize): void {
  const fn = <f32>n;
  for (let r = r0; r < r1; r++) {
    const xr = x + (<usize>(r * n) << 2), or = o + (<usize>(r * n) << 2);
    const mean = <f32>sumF32(xr, n) / fn;
    const mv = f32x4.splat(mean);
    // centred values into o, then their squares' sum
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const k = <usize>i << 2;
      const c = f32x4.sub(v128.load(xr + k), mv);
      v128.store(or + k, c);
      const q = f32x4.mul(c, c);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(q));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(q, q, 2, 3, 0, 1)));
    }
    a0 = f64x2.add(a0, a1);
    let ss = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
    for (; i < n; i++) {
      const k = <usize>i << 2;
      const c = load<f32>(xr + k) - mean;
      store<f32>(or + k, c);
      ss += <f64>(c * c);
    }
    const v: f32 = <f32>ss / fn;
    const rs = f32x4.splat(<f32>(1.0 / Math.sqrt(<f64>(v + eps))));
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const k = <usize>i << 2;
      v128.store(or + k, f32x4.add(f32x4.mul(f32x4.mul(v128.load(or + k), rs), v128.load(g + k)), v128.load(b + k)));
    }
    for (; i < n; i++) {
      const k = <usize>i << 2;
      store<f32>(or + k, load<f32>(or + k) * f32x4.extract_lane(rs, 0) * load<f32>(g + k) + load<f32>(b + k));
    }
  }
}
/** [r0, r1, n, x, gamma, beta, eps (f32 bits), o] */
export function layernorm_p(p: usize): void {
  layerNormRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), argf(p, 6), arg(p, 7));
}

export const OPT_SGD = 0, OPT_MOMENTUM = 1, OPT_NESTEROV = 2, OPT_ADAM = 3;

/**
 * In-place optimizer step over n elements:
 * [kind, n, param, grad, s0, s1, lr, momentum, beta1, beta2, epsilon, lr·wd, alpha, 1−β1, 1−β2]
 * (floats as f32 bits; lr·wd = 0 disables the decoupled weight decay).
 */
export function opt_p(p: usize): void {
  const kind = arg(p, 0), n = arg(p, 1);
  const w = <usize>arg(p, 2), g = <usize>arg(p, 3), s0 = <usize>arg(p, 4), s1 = <usize>arg(p, 5);
  const lr = splat(argf(p, 6)), mom = splat(argf(p, 7)), b1 = splat(argf(p, 8)), b2 = splat(argf(p, 9));
  const eps = splat(argf(p, 10)), lrwd = splat(argf(p, 11)), alpha = splat(argf(p, 12));
  const omb1 = splat(argf(p, 13)), omb2 = splat(argf(p, 14));
  const wd = argf(p, 11) != 0;
  let i = 0;
  // vector body, then a scalar tail through splat/extract
  for (; i < n; i += 4) {
    const k = <usize>i << 2;
    const tail = n - i < 4;
    const P = tail ? f32x4.splat(load<f32>(w + k)) : v128.load(w + k);
    const G = tail ? f32x4.splat(load<f32>(g + k)) : v128.load(g + k);
    let R: v128;
    if (kind == OPT_SGD) {
      R = f32x4.sub(P, f32x4.mul(G, lr));
    } else if (kind == OPT_MOMENTUM || kind == OPT_NESTEROV) {
      const V = tail ? f32x4.splat(load<f32>(s0 + k)) : v128.load(s0 + k);
      const gl = f32x4.mul(G, lr);
      const nv = f32x4.sub(f32x4.mul(V, mom), gl);
      R = kind == OPT_MOMENTUM ? f32x4.add(P, nv) : f32x4.add(P, f32x4.sub(f32x4.mul(nv, mom), gl));
      if (tail) store<f32>(s0 + k, f32x4.extract_lane(nv, 0));
      else v128.store(s0 + k, nv);
    } else {
      const M = tail ? f32x4.splat(load<f32>(s0 + k)) : v128.load(s0 + k);
      const V = tail ? f32x4.splat(load<f32>(s1 + k)) : v128.load(s1 + k);
      const base = wd ? f32x4.sub(P, f32x4.mul(P, lrwd)) : P;
      const nm = f32x4.add(f32x4.mul(M, b1), f32x4.mul(G, omb1));
      const nv = f32x4.add(f32x4.mul(V, b2), f32x4.mul(f32x4.mul(G, G), omb2));
      R = f32x4.sub(base, f32x4.div(f32x4.mul(nm, alpha), f32x4.add(f32x4.sqrt(nv), eps)));
      if (tail) { store<f32>(s0 + k, f32x4.extract_lane(nm, 0)); store<f32>(s1 + k, f32x4.extract_lane(nv, 0)); }
      else { v128.store(s0 + k, nm); v128.store(s1 + k, nv); }
    }
    if (tail) {
      store<f32>(w + k, f32x4.extract_lane(R, 0));
      i -= 3; // advance one element at a time through the tail
    } else {
      v128.store(w + k, R);
    }
  }
}

/**
 * The fused scaled dot-product attention kernel: scores, a max-shifted softmax and the
 * weighted sum of values per tile of query rows, in float64 scratch, without materialising
 * the `[..., Tq, Tk]` score tensor. Causal tiles stop at their last visible key.
 * @module
 */
import type { View } from '@tessera/core';
import { f32, u8 } from './storage.js';
import { offsetsOf } from './strided.js';

/** Query rows per tile: each key row is loaded once for this many dot products. */
const TILE = 4;

let kBuf = new Float64Array(1024);
let vBuf = new Float64Array(1024);
let qBuf = new Float64Array(TILE * 64);
let sBuf = new Float64Array(TILE * 256);
const zBuf = new Float64Array(TILE);
let visBuf = new Uint8Array(TILE * 256);

/** Batch start offsets of a `[...batch, rows, cols]` view, with its two inner strides. */
function batches(v: View) {
  const r = v.shape.length;
  return { starts: offsetsOf(v.shape.slice(0, r - 2), v.strides.slice(0, r - 2), v.offset), row: v.strides[r - 2], col: v.strides[r - 1] };
}

/** Copies a strided `[rows, cols]` block into contiguous float64 `dst`. */
function pack(src: Float32Array, start: number, rows: number, cols: number, rs: number, cs: number, dst: Float64Array): void {
  for (let i = 0, o = 0; i < rows; i++) for (let c = 0, p = start + i * rs; c < cols; c++, p += cs) dst[o++] = src[p];
}

/**
 * `out = softmax(q kᵀ · scale, masked) v` over `[...batch, tq, d]` × `[...batch, tk, d]` ×
 * `[...batch, tk, dv]`. Key `j` is visible to query `i` when `mask[i, j]` (if any) and, when
 * `causal`, `j <= i + tk - tq`; a query with no visible key gets zeros.
 *
 * @example
 * scaledDotProductAttention(q, k, v, null, true, 0.5, out);
 */
export function scaledDotProductAttention(q: View, k: View, v: View, mask: View | null, causal: boolean, scale: number, out: View): void {
  if (out.size === 0) return;
  const Q = f32(q), K = f32(k), V = f32(v), O = f32(out);
  const M = mask === null ? null : u8(mask);
  const r = q.shape.length;
  const tq = q.shape[r - 2], d = q.shape[r - 1], tk = k.shape[r - 2], dv = v.shape[r - 1];
  const qb = batches(q), kb = batches(k), vb = batches(v), ob = batches(out);
  const mb = mask === null ? null : batches(mask);
  if (kBuf.length < tk * d) kBuf = new Float64Array(tk * d);
  if (vBuf.length < tk * dv) vBuf = new Float64Array(tk * dv);
  if (qBuf.length < TILE * d) qBuf = new Float64Array(TILE * d);
  if (sBuf.length < TILE * tk) sBuf = new Float64Array(TILE * tk);
  if (visBuf.length < TILE * tk) visBuf = new Uint8Array(TILE * tk);
  const Kc = kBuf, VT = vBuf, Qc = qBuf, S = sBuf, vis = visBuf, zs = zBuf;
  const shift = tk - tq;
  for (let b = 0; b < qb.starts.length; b++) {
    pack(K, kb.starts[b], tk, d, kb.row, kb.col, Kc);
    // v transposed ([dv, tk]) so that the weighted sums read it contiguously.
    pack(V, vb.starts[b], dv, tk, vb.col, vb.row, VT);
    for (let i0 = 0; i0 < tq; i0 += TILE) {
      const n = Math.min(TILE, tq - i0);
      pack(Q, qb.starts[b] + i0 * qb.row, n, d, qb.row, qb.col, Qc);
      // Keys past the tile's last visible one are skipped outright.
      const end = causal ? Math.max(0, Math.min(tk, i0 + n + shift)) : tk;
      // Visibility, then every tile row's score against each key row (loaded once).
      for (let t = 0; t < n; t++) {
        const i = i0 + t;
        const last = causal ? i + shift : tk - 1;
        for (let j = 0; j < end; j++) {
          vis[t * tk + j] = j <= last && (M === null || M[mb!.starts[b] + i * mb!.row + j * mb!.col] !== 0) ? 1 : 0;
        }
      }
      for (let j = 0; j < end; j++) {
        const kr = j * d;
        if (n === TILE) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (let p = 0; p < d; p++) {
            const kv = Kc[kr + p];
            a0 += Qc[p] * kv;
            a1 += Qc[d + p] * kv;
            a2 += Qc[2 * d + p] * kv;
            a3 += Qc[3 * d + p] * kv;
          }
          S[j] = a0 * scale;
          S[tk + j] = a1 * scale;
          S[2 * tk + j] = a2 * scale;
          S[3 * tk + j] = a3 * scale;
        } else {
          for (let t = 0; t < n; t++) {
            let a = 0;
            for (let p = 0, qr = t * d; p < d; p++) a += Qc[qr + p] * Kc[kr + p];
            S[t * tk + j] = a * scale;
          }
        }
      }
      // Softmax numerators in place of the scores (0 where hidden), and each row's sum.
      for (let t = 0; t < n; t++) {
        const row = t * tk;
        let m = -Infinity;
        let any = false;
        for (let j = 0; j < end; j++) {
          if (vis[row + j] && (!any || S[row + j] > m)) {
            m = S[row + j];
            any = true;
          }
        }
        let z = 0;
        for (let j = 0; j < end; j++) {
          const w = vis[row + j] ? Math.exp(S[row + j] - m) : 0;
          S[row + j] = w;
          z += w;
        }
        zs[t] = any ? 1 / z : 0;
      }
      // out[t, c] = Σ_j p[t, j] v[j, c]: each column of v (contiguous in VT) read once per tile.
      for (let c = 0; c < dv; c++) {
        const vr = c * tk;
        if (n === TILE) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (let j = 0; j < end; j++) {
            const x = VT[vr + j];
            a0 += S[j] * x;
            a1 += S[tk + j] * x;
            a2 += S[2 * tk + j] * x;
            a3 += S[3 * tk + j] * x;
          }
          const o = ob.starts[b] + i0 * ob.row + c * ob.col;
          O[o] = a0 * zs[0];
          O[o + ob.row] = a1 * zs[1];
          O[o + 2 * ob.row] = a2 * zs[2];
          O[o + 3 * ob.row] = a3 * zs[3];
        } else {
          for (let t = 0; t < n; t++) {
            let a = 0;
            for (let j = 0, row = t * tk; j < end; j++) a += S[row + j] * VT[vr + j];
            O[ob.starts[b] + (i0 + t) * ob.row + c * ob.col] = a * zs[t];
          }
        }
      }
    }
  }
}

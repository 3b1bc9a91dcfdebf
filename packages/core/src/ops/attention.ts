/**
 * Scaled dot-product attention, `softmax(q kᵀ · scale + mask) v`: one fused kernel where the
 * backend has `scaledDotProductAttention`, else the reference decomposition here (matmul,
 * where, softmax, matmul). Recorded as one op so autograd differentiates either path alike.
 * @module
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { broadcastShapes, fmtShape, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { softmax } from './activation.js';
import { logicalAnd, mul, notEqual, where } from './elementwise.js';
import { matmul } from './matmul.js';
import { backendOf, broadcastView, constantOn, expectDType, input, live, recorded, tryFused } from './util.js';

/** Options of {@link scaledDotProductAttention} and {@link attentionWeights}. */
export interface AttentionOptions {
  /**
   * Which keys each query may attend: bool (or 0/1 numbers), broadcastable to
   * `[..., Tq, Tk]`; true/1 = attend. Masked weights are exactly 0; a query whose keys are all
   * masked gets all-zero weights (and a zero output row) rather than NaN.
   */
  mask?: Tensor | null;
  /**
   * Query `i` attends keys `j <= i + (Tk - Tq)`: the usual lower-triangular mask when
   * `Tq == Tk`, and the right one when the queries are the last `Tq` of `Tk` positions (decoding
   * with a KV cache). Combined with `mask` by logical and.
   */
  causal?: boolean;
  /** Multiplies the scores; default `1 / √d` (d = the last axis of q and k). */
  scale?: number;
  /** Also return the attention weights `[..., Tq, Tk]` (then the fused kernel is not used). */
  returnScores?: boolean;
}

/**
 * Stands in for −∞ on masked scores: finite, so a fully masked row stays NaN-free (and its
 * gradient too), yet `exp(NEG - max)` is exactly 0 next to any finite score.
 */
const NEG = -1e30;

interface Checked {
  batch: number[];
  tq: number;
  tk: number;
  d: number;
  dv: number;
  scale: number;
  causal: boolean;
}

/** Validates the operands and options of attention `op`; returns the geometry. */
function check(op: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Checked {
  live(q, op, 'q');
  live(k, op, 'k');
  live(v, op, 'v');
  backendOf(op, q, k, v);
  expectDType(op, q, ['float32'], 'q');
  expectDType(op, k, ['float32'], 'k');
  expectDType(op, v, ['float32'], 'v');
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) {
    throw new ShapeError(op, `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} must have rank >= 2 ([..., T, d])`);
  }
  const d = q.shape[q.rank - 1]!;
  const tq = q.shape[q.rank - 2]!;
  const tk = k.shape[k.rank - 2]!;
  const dv = v.shape[v.rank - 1]!;
  if (k.shape[k.rank - 1] !== d) throw new ShapeError(op, `q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} must share the last axis (d)`);
  if (v.shape[v.rank - 2] !== tk) throw new ShapeError(op, `k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} must have the same number of positions (axis -2)`);
  let batch: number[];
  try {
    batch = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2), op), v.shape.slice(0, -2), op);
  } catch {
    throw new ShapeError(op, `the batch axes of q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} do not broadcast`);
  }
  const mask = opts.mask ?? null;
  if (mask !== null) {
    live(mask, op, 'mask');
    backendOf(op, q, mask);
    const want = [...batch, tq, tk];
    let ok = mask.rank <= want.length;
    if (ok) {
      try {
        ok = shapesEqual(broadcastShapes(mask.shape, want, op), want);
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new ShapeError(op, `mask ${fmtShape(mask.shape)} does not broadcast to the scores' shape ${fmtShape(want)} ([..., Tq, Tk])`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new ArgumentError(op, `scale must be a finite number, got ${String(opts.scale)}`);
  return { batch, tq, tk, d, dv, scale, causal: opts.causal === true };
}

/** The bool mask a user gave (0/1 numbers become `!= 0`); `owned` says whether to dispose it. */
function boolMask(mask: Tensor): { m: Tensor; owned: boolean } {
  return mask.dtype === 'bool' ? { m: mask, owned: false } : { m: notEqual(mask, 0), owned: true };
}

/** `[Tq, Tk]` bool: key j visible to query i when `j <= i + (Tk - Tq)`. */
function causalMask(q: Tensor, tq: number, tk: number): Tensor {
  const data = new Uint8Array(tq * tk);
  const shift = tk - tq;
  for (let i = 0; i < tq; i++) {
    const last = Math.min(tk - 1, i + shift);
    for (let j = 0; j <= last; j++) data[i * tk + j] = 1;
  }
  return constantOn(q.backend, 'bool', data, [tq, tk]);
}

/**
 * The attention weights `softmax(q kᵀ · scale)` over the last axis, `[..., Tq, Tk]`, with
 * masked positions exactly 0 (composed of recorded ops, so it is differentiable).
 * @example attentionWeights(q, k, { causal: true }) // rows sum to 1, upper triangle 0
 */
export function attentionWeights(q: Tensor, k: Tensor, opts: Omit<AttentionOptions, 'returnScores'> = {}): Tensor {
  const g = check('attentionWeights', q, k, k, opts);
  return weightsOf(q, k, opts.mask ?? null, g);
}

function weightsOf(q: Tensor, k: Tensor, mask: Tensor | null, g: Checked): Tensor {
  const temps: Tensor[] = [];
  try {
    let allowed: Tensor | null = null;
    if (mask !== null) {
      const b = boolMask(mask);
      allowed = b.m;
      if (b.owned) temps.push(b.m);
    }
    if (g.causal) {
      const c = causalMask(q, g.tq, g.tk);
      temps.push(c);
      if (allowed === null) allowed = c;
      else temps.push((allowed = logicalAnd(allowed, c)));
    }
    const raw = matmul(q, k, { transposeB: true });
    temps.push(raw);
    let s = mul(raw, g.scale);
    if (allowed !== null) {
      temps.push(s);
      s = where(allowed, s, NEG);
    }
    temps.push(s);
    const p = softmax(s);
    // Rows left with no visible key (a user mask, or causal with Tq > Tk) would be uniform;
    // zero them so every masked weight is exactly 0.
    if (allowed !== null && (mask !== null || g.tq > g.tk)) {
      temps.push(p);
      return where(allowed, p, 0);
    }
    return p;
  } finally {
    for (const t of temps) t.dispose();
  }
}

/**
 * Scaled dot-product attention: `softmax(q kᵀ · scale, masked) v`. q `[..., Tq, d]`,
 * k `[..., Tk, d]`, v `[..., Tk, dv]` (batch axes broadcast) → `[..., Tq, dv]`; with
 * `returnScores`, `[output, weights]` (weights `[..., Tq, Tk]`). Runs the backend's fused
 * `scaledDotProductAttention` kernel when it has one (and scores are not requested).
 * Differentiable with respect to q, k and v.
 * @example
 * const y = scaledDotProductAttention(q, k, v, { causal: true });
 * const [y2, w] = scaledDotProductAttention(q, k, v, { mask: padMask, returnScores: true });
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & { returnScores: true }): [Tensor, Tensor];
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions & { returnScores?: false }): Tensor;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): Tensor | [Tensor, Tensor];
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor | [Tensor, Tensor] {
  const op = 'scaledDotProductAttention';
  if (opts === null || typeof opts !== 'object') throw new ArgumentError(op, `opts must be an object, got ${String(opts)}`);
  const g = check(op, q, k, v, opts);
  const mask = opts.mask ?? null;
  if (opts.returnScores === true) {
    // Two outputs: composed of recorded ops, so autograd sees the primitives.
    const w = weightsOf(q, k, mask, g);
    return [matmul(w, v), w];
  }
  const inputs = mask === null ? [q, k, v] : [q, k, v, mask];
  return recorded(op, inputs, { causal: g.causal, scale: g.scale }, () => {
    const be = q.backend;
    const outShape = [...g.batch, g.tq, g.dv];
    let bm: { m: Tensor; owned: boolean } | null = null;
    try {
      const fused = tryFused(be, op, outShape, (out) => {
        bm = mask === null ? null : boolMask(mask);
        be.fused.scaledDotProductAttention!(
          input(broadcastView(q, [...g.batch, g.tq, g.d]), be),
          input(broadcastView(k, [...g.batch, g.tk, g.d]), be),
          input(broadcastView(v, [...g.batch, g.tk, g.dv]), be),
          bm === null ? null : input(broadcastView(bm.m, [...g.batch, g.tq, g.tk]), be),
          g.causal,
          g.scale,
          out,
        );
      });
      if (fused) return fused;
    } finally {
      const b = bm as { m: Tensor; owned: boolean } | null;
      if (b !== null && b.owned) b.m.dispose();
    }
    const w = weightsOf(q, k, mask, g);
    const out = matmul(w, v);
    w.dispose();
    return out;
  });
}

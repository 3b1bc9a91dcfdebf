/**
 * One VJP rule per op name the core records. Every rule is written with core ops, so any
 * backend gets gradients (and gradients of gradients) for free. Rules may return a gradient
 * in the op's broadcast shape; the tape sums it back to the input's shape.
 * @module
 */
import {
  accumulatePatches,
  add,
  arange,
  argmax,
  attentionWeights,
  cast,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dWith,
  cos,
  cumprod,
  cumsum,
  div,
  equal,
  erf,
  exp,
  expandDims,
  extractPatches,
  flip,
  floor,
  greater,
  greaterEqual,
  lessEqual,
  linear,
  log,
  logicalAnd,
  logSoftmax,
  matmul,
  max,
  mean,
  mul,
  neg,
  pool2dBackward,
  pow as powOp,
  broadcastTo,
  pool2dWith,
  reshape,
  rsqrt,
  scatterAdd,
  gather,
  sign,
  sin,
  slice,
  softmax,
  square,
  stridedSlice,
  sub,
  sum,
  transpose,
  unslice,
  where,
  zerosLike,
  less,
  type Activation,
  type Tensor,
  type WindowParams,
} from '@tessera/core';
import type { GradRule, VjpContext } from './tape.js';

const NONE: GradRule = { saveInputs: false, vjp: (_g, c) => c.inShapes.map(() => null) };

/** The input shape with the reduced axes kept as size 1. */
function keptShape(inShape: readonly number[], axes: readonly number[]): number[] {
  return inShape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function inv(perm: readonly number[]): number[] {
  const p = new Array<number>(perm.length);
  perm.forEach((a, i) => (p[a] = i));
  return p;
}

const x0 = (c: VjpContext): Tensor => c.inputs[0]!;
const x1 = (c: VjpContext): Tensor => c.inputs[1]!;
const y = (c: VjpContext): Tensor => c.output!;

/**
 * The built-in rules, by op name (installed by the tape module).
 * @example BUILTIN_RULES.mul.vjp(dy, ctx) // [dy * b, dy * a]
 */
export const BUILTIN_RULES: Readonly<Record<string, GradRule>> = {
  // ---- unary ----
  neg: { saveInputs: false, vjp: (g) => [neg(g)] },
  abs: { vjp: (g, c) => [mul(g, sign(x0(c)))] },
  sign: NONE,
  floor: NONE,
  ceil: NONE,
  round: NONE,
  exp: { saveInputs: false, saveOutput: true, vjp: (g, c) => [mul(g, y(c))] },
  expm1: { saveInputs: false, saveOutput: true, vjp: (g, c) => [mul(g, add(y(c), 1))] },
  log: { vjp: (g, c) => [div(g, x0(c))] },
  log1p: { vjp: (g, c) => [div(g, add(x0(c), 1))] },
  sqrt: { saveInputs: false, saveOutput: true, vjp: (g, c) => [div(mul(g, 0.5), y(c))] },
  rsqrt: {
    saveInputs: false,
    saveOutput: true,
    vjp: (g, c) => [mul(mul(g, -0.5), mul(square(y(c)), y(c)))],
  },
  square: { vjp: (g, c) => [mul(g, mul(x0(c), 2))] },
  reciprocal: { saveInputs: false, saveOutput: true, vjp: (g, c) => [neg(mul(g, square(y(c))))] },
  sin: { vjp: (g, c) => [mul(g, cos(x0(c)))] },
  cos: { vjp: (g, c) => [neg(mul(g, sin(x0(c))))] },
  tanh: { saveInputs: false, saveOutput: true, vjp: (g, c) => [mul(g, sub(1, square(y(c))))] },
  sigmoid: { saveInputs: false, saveOutput: true, vjp: (g, c) => [mul(g, mul(y(c), sub(1, y(c))))] },
  erf: { vjp: (g, c) => [mul(g, mul(exp(neg(square(x0(c)))), 2 / Math.sqrt(Math.PI)))] },
  relu: { vjp: (g, c) => [where(greater(x0(c), 0), g, 0)] },

  // ---- binary (the tape sums broadcast gradients back to the input shapes) ----
  add: { saveInputs: false, vjp: (g) => [g, g] },
  sub: { saveInputs: false, vjp: (g, c) => [g, c.needs[1] ? neg(g) : null] },
  mul: {
    vjp: (g, c) => [c.needs[0] ? mul(g, x1(c)) : null, c.needs[1] ? mul(g, x0(c)) : null],
  },
  div: {
    vjp: (g, c) => [
      c.needs[0] ? div(g, x1(c)) : null,
      c.needs[1] ? neg(div(mul(g, x0(c)), square(x1(c)))) : null,
    ],
  },
  pow: {
    saveOutput: true,
    vjp: (g, c) => {
      const a = x0(c);
      const b = x1(c);
      let ga: Tensor | null = null;
      let gb: Tensor | null = null;
      if (c.needs[0]) {
        // b · a^(b-1), defined as 0 where b == 0 (avoids 0 · inf at a == 0).
        const d = mul(b, powOp(a, sub(b, 1)));
        ga = mul(g, where(equal(b, 0), 0, d));
      }
      if (c.needs[1]) {
        // y · log(a) where a > 0, else 0 (TensorFlow's convention).
        const pos = greater(a, 0);
        const la = log(where(pos, a, 1));
        gb = mul(g, where(pos, mul(y(c), la), 0));
      }
      return [ga, gb];
    },
  },
  maximum: {
    vjp: (g, c) => {
      const m = greaterEqual(x0(c), x1(c));
      return [c.needs[0] ? where(m, g, 0) : null, c.needs[1] ? where(m, 0, g) : null];
    },
  },
  minimum: {
    vjp: (g, c) => {
      const m = lessEqual(x0(c), x1(c));
      return [c.needs[0] ? where(m, g, 0) : null, c.needs[1] ? where(m, 0, g) : null];
    },
  },
  mod: {
    vjp: (g, c) => [c.needs[0] ? g : null, c.needs[1] ? neg(mul(g, floor(div(x0(c), x1(c))))) : null],
  },
  atan2: {
    vjp: (g, c) => {
      const a = x0(c);
      const b = x1(c);
      const d = add(square(a), square(b));
      return [c.needs[0] ? div(mul(g, b), d) : null, c.needs[1] ? neg(div(mul(g, a), d)) : null];
    },
  },
  floorDiv: NONE,
  cast: { saveInputs: false, vjp: (g, c) => [c.inDtypes[0] === 'float32' ? g : null] },
  where: {
    saveInputs: [0],
    vjp: (g, c) => {
      const cond = x0(c);
      return [null, c.needs[1] ? where(cond, g, 0) : null, c.needs[2] ? where(cond, 0, g) : null];
    },
  },
  contiguous: { saveInputs: false, vjp: (g) => [g] },

  // ---- reductions ----
  sum: {
    saveInputs: false,
    vjp: (g, c) => {
      const { axes, inShape } = c.attrs as { axes: number[]; inShape: number[] };
      return [broadcastTo(reshape(g, keptShape(inShape, axes)), inShape)];
    },
  },
  max: { saveOutput: true, vjp: (g, c) => [extremumGrad(g, c)] },
  min: { saveOutput: true, vjp: (g, c) => [extremumGrad(g, c)] },
  prod: {
    vjp: (g, c) => {
      const { axes, inShape } = c.attrs as { axes: number[]; inShape: number[] };
      const x = x0(c);
      const keptAxes = inShape.map((_, i) => i).filter((i) => !axes.includes(i));
      const perm = [...keptAxes, ...axes];
      const xt = transpose(x, perm);
      const k = axes.reduce((n, a) => n * inShape[a]!, 1);
      const xr = reshape(xt, [...keptAxes.map((a) => inShape[a]!), k]);
      // The product of all other elements, without dividing (exact with zeros).
      const others = mul(cumprod(xr, -1, { exclusive: true }), cumprod(xr, -1, { exclusive: true, reverse: true }));
      const gk = mul(others, expandDims(g, -1));
      return [transpose(reshape(gk, xt.shape), inv(perm))];
    },
  },
  cumsum: {
    saveInputs: false,
    vjp: (g, c) => {
      const { axis, exclusive, reverse } = c.attrs as { axis: number; exclusive: boolean; reverse: boolean };
      return [c.inShapes[0]!.length === 0 ? g : cumsum(g, axis, { exclusive, reverse: !reverse })];
    },
  },
  cumprod: {
    saveOutput: true,
    vjp: (g, c) => {
      const { axis, exclusive, reverse } = c.attrs as { axis: number; exclusive: boolean; reverse: boolean };
      if (c.inShapes[0]!.length === 0) return [g];
      // TensorFlow's rule: cumsum(y·g, reversed) / x (undefined where x == 0).
      const s = cumsum(mul(y(c), g), axis, { exclusive, reverse: !reverse });
      return [div(s, x0(c))];
    },
  },
  cummax: { saveOutput: true, vjp: (g, c) => [cummaxGrad(g, c)] },

  // ---- movement ----
  reshape: { saveInputs: false, vjp: (g, c) => [reshape(g, (c.attrs as { shape: number[] }).shape)] },
  transpose: { saveInputs: false, vjp: (g, c) => [transpose(g, inv((c.attrs as { perm: number[] }).perm))] },
  stridedSlice: {
    saveInputs: false,
    vjp: (g, c) => {
      const { inShape, starts, steps } = c.attrs as { inShape: number[]; starts: number[]; steps: number[] };
      return [unslice(g, inShape, starts, steps)];
    },
  },
  unslice: {
    saveInputs: false,
    vjp: (g, c) => {
      const { starts, steps } = c.attrs as { starts: number[]; steps: number[] };
      const lens = c.inShapes[0]!;
      const ends = starts.map((s, i) => {
        const e = s + lens[i]! * steps[i]!;
        return steps[i]! < 0 && e < 0 ? null : e;
      });
      return [stridedSlice(g, starts, ends, steps)];
    },
  },
  flip: { saveInputs: false, vjp: (g, c) => [flip(g, (c.attrs as { axes: number[] }).axes)] },
  broadcastTo: { saveInputs: false, vjp: (g) => [g] },
  concat: {
    saveInputs: false,
    vjp: (g, c) => {
      const { axis, sizes } = c.attrs as { axis: number; sizes: number[] };
      let pos = 0;
      return sizes.map((n, i) => {
        const begin = g.shape.map(() => 0);
        const size = g.shape.slice();
        begin[axis] = pos;
        size[axis] = n;
        pos += n;
        return c.needs[i] ? slice(g, begin, size) : null;
      });
    },
  },
  pad: {
    saveInputs: false,
    vjp: (g, c) => {
      const { paddings } = c.attrs as { paddings: [number, number][] };
      return [slice(g, paddings.map((p) => p[0]), c.inShapes[0]!)];
    },
  },
  gather: {
    saveInputs: [0, 1],
    vjp: (g, c) => [scatterAdd(zerosLike(x0(c)), x1(c), g, (c.attrs as { axis: number }).axis), null],
  },
  scatterAdd: {
    saveInputs: [1],
    vjp: (g, c) => [g, null, c.needs[2] ? gather(g, x1(c), (c.attrs as { axis: number }).axis) : null],
  },

  // ---- products ----
  matmul: {
    vjp: (g, c) => [
      c.needs[0] ? matmul(g, x1(c), { transposeB: true }) : null,
      c.needs[1] ? matmul(x0(c), g, { transposeA: true }) : null,
    ],
  },
  linear: { saveOutput: true, vjp: (g, c) => linearGrad(g, c) },

  // ---- activations and fused ops ----
  softmax: {
    saveInputs: false,
    saveOutput: true,
    vjp: (g, c) => {
      const s = y(c);
      return [mul(s, sub(g, sum(mul(g, s), -1, true)))];
    },
  },
  logSoftmax: {
    saveInputs: false,
    saveOutput: true,
    vjp: (g, c) => [sub(g, mul(exp(y(c)), sum(g, -1, true)))],
  },
  softmaxCrossEntropy: {
    vjp: (g, c) => {
      const logits = x0(c);
      const labels = x1(c);
      const ge = expandDims(g, -1);
      return [
        c.needs[0] ? mul(ge, sub(mul(softmax(logits), sum(labels, -1, true)), labels)) : null,
        c.needs[1] ? mul(ge, neg(logSoftmax(logits))) : null,
      ];
    },
  },
  layerNorm: { vjp: (g, c) => layerNormGrad(g, c) },
  scaledDotProductAttention: { vjp: (g, c) => attentionGrad(g, c) },

  // ---- windows (im2col and its adjoint), convolution, pooling ----
  extractPatches: {
    saveInputs: false,
    vjp: (g, c) => [accumulatePatches(g, c.inShapes[0]!, (c.attrs as { p: WindowParams }).p)],
  },
  accumulatePatches: {
    saveInputs: false,
    vjp: (g, c) => [extractPatches(g, (c.attrs as { p: WindowParams }).p)],
  },
  conv2d: {
    vjp: (g, c) => {
      const p = (c.attrs as { p: WindowParams }).p;
      return [
        c.needs[0] ? conv2dBackpropInput(g, x1(c), c.inShapes[0]!, p) : null,
        c.needs[1] ? conv2dBackpropFilter(x0(c), g, c.inShapes[1]!, p) : null,
      ];
    },
  },
  conv2dBackpropInput: {
    // dx = B_f^T(dy) is linear in dy and in the filter.
    vjp: (g, c) => {
      const p = (c.attrs as { p: WindowParams }).p;
      return [
        c.needs[0] ? conv2dWith(g, x1(c), p) : null,
        c.needs[1] ? conv2dBackpropFilter(g, x0(c), c.inShapes[1]!, p) : null,
      ];
    },
  },
  conv2dBackpropFilter: {
    vjp: (g, c) => {
      const p = (c.attrs as { p: WindowParams }).p;
      return [
        c.needs[0] ? conv2dBackpropInput(x1(c), g, c.inShapes[0]!, p) : null,
        c.needs[1] ? conv2dWith(x0(c), g, p) : null,
      ];
    },
  },
  pool2d: {
    vjp: (g, c) => {
      const { kind, p } = c.attrs as { kind: 'max' | 'avg'; p: WindowParams };
      return [pool2dBackward(kind, x0(c), g, p)];
    },
  },
  pool2dBackward: {
    saveInputs: [0],
    vjp: (g, c) => {
      const { kind, p } = c.attrs as { kind: 'max' | 'avg'; p: WindowParams };
      if (!c.needs[1]) return [null, null];
      // Piecewise constant in x; linear in dy, whose adjoint pools g the same way.
      if (kind === 'avg') return [null, pool2dWith('avg', g, p)];
      return [null, maxPoolBackwardAdjoint(x0(c), g, p)];
    },
  },
};

function extremumGrad(g: Tensor, c: VjpContext): Tensor {
  const { axes, inShape } = c.attrs as { axes: number[]; inShape: number[] };
  const shape = keptShape(inShape, axes);
  const yk = reshape(y(c), shape);
  const mask = cast(equal(x0(c), yk), 'float32');
  // Ties share the gradient equally (TensorFlow and PyTorch agree).
  const count = sum(mask, axes, true);
  return mul(div(mask, count), reshape(g, shape));
}

/** Routes each running maximum's gradient to the element it came from (the latest on ties). */
function cummaxGrad(g: Tensor, c: VjpContext): Tensor {
  const { axis, exclusive, reverse } = c.attrs as { axis: number; exclusive: boolean; reverse: boolean };
  const x = x0(c);
  if (x.rank === 0) return g;
  const n = x.shape[axis]!;
  const last = x.rank - 1;
  const perm = x.shape.map((_, i) => i);
  perm[axis] = last;
  perm[last] = axis;
  const xt = transpose(x, perm); // [..., n] (j)
  const yt = transpose(y(c), perm); // [..., n] (i)
  const gt = transpose(g, perm);
  const idx = cast(arange(n), 'float32');
  const i = reshape(idx, [n, 1]);
  const j = reshape(idx, [1, n]);
  const window = reverse ? (exclusive ? greater(j, i) : greaterEqual(j, i)) : exclusive ? less(j, i) : lessEqual(j, i);
  const hit = logicalAnd(equal(expandDims(xt, -2), expandDims(yt, -1)), window); // [..., i, j]
  const jj = where(hit, j, reverse ? n : -1);
  const pick = reverse ? neg(max(neg(jj), -1, true)) : max(jj, -1, true);
  const onehot = cast(logicalAnd(equal(j, pick), hit), 'float32');
  const gx = sum(mul(onehot, expandDims(gt, -1)), -2);
  return transpose(gx, perm);
}

/** The gradient of `linear(x, w, bias, activation)` with respect to each input. */
function linearGrad(g: Tensor, c: VjpContext): (Tensor | null)[] {
  const x = x0(c);
  const w = x1(c);
  const bias = c.inputs[2];
  const out = y(c);
  const activation = (c.attrs as { activation: Activation }).activation;
  let gz: Tensor;
  switch (activation) {
    case 'linear':
      gz = g;
      break;
    case 'relu':
      gz = where(greater(out, 0), g, 0);
      break;
    case 'sigmoid':
      gz = mul(g, mul(out, sub(1, out)));
      break;
    case 'tanh':
      gz = mul(g, sub(1, square(out)));
      break;
    case 'gelu': {
      const z = linear(x, w, bias ?? null, 'linear');
      const cdf = mul(add(erf(mul(z, Math.SQRT1_2)), 1), 0.5);
      const pdf = mul(exp(mul(square(z), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      gz = mul(g, add(cdf, mul(z, pdf)));
      break;
    }
    default:
      throw new Error(`linear: unknown activation ${String(activation)}`);
  }
  const k = w.shape[0]!;
  const units = w.shape[1]!;
  const gz2 = gz.rank === 2 ? gz : reshape(gz, [-1, units]);
  const x2 = x.rank === 2 ? x : reshape(x, [-1, k]);
  return [
    c.needs[0] ? reshape(matmul(gz2, w, { transposeB: true }), x.shape) : null,
    c.needs[1] ? matmul(x2, gz2, { transposeA: true }) : null,
    c.needs[2] ? sum(gz2, 0) : null,
  ];
}

/** The gradient of layer normalisation over the last axis, recomputing the statistics. */
function layerNormGrad(g: Tensor, c: VjpContext): (Tensor | null)[] {
  const x = x0(c);
  const gamma = x1(c);
  const eps = (c.attrs as { epsilon: number }).epsilon;
  const d = x.shape[x.rank - 1]!;
  const m = mean(x, -1, true);
  const centred = sub(x, m);
  const v = mean(square(centred), -1, true);
  const r = rsqrt(add(v, eps));
  const xhat = mul(centred, r);
  const g2 = reshape(g, [-1, d]);
  let gx: Tensor | null = null;
  if (c.needs[0]) {
    const gxhat = mul(g, gamma);
    const a = mean(gxhat, -1, true);
    const b = mean(mul(gxhat, xhat), -1, true);
    gx = mul(r, sub(sub(gxhat, a), mul(xhat, b)));
  }
  return [
    gx,
    c.needs[1] ? sum(mul(g2, reshape(xhat, [-1, d])), 0) : null,
    c.needs[2] ? sum(g2, 0) : null,
  ];
}

/**
 * The gradient of scaled dot-product attention, recomputing the weights p (masked ones are 0,
 * so masked scores get no gradient): dv = pᵀg, ds = p ⊙ (g vᵀ − Σ(g vᵀ ⊙ p)) · scale,
 * dq = ds k, dk = dsᵀ q. The mask gets none.
 */
function attentionGrad(g: Tensor, c: VjpContext): (Tensor | null)[] {
  const [q, k, v] = c.inputs as Tensor[];
  const { causal, scale } = c.attrs as { causal: boolean; scale: number };
  const p = attentionWeights(q!, k!, { mask: c.inputs[3] ?? null, causal, scale });
  let dq: Tensor | null = null;
  let dk: Tensor | null = null;
  if (c.needs[0] || c.needs[1]) {
    const dp = matmul(g, v!, { transposeB: true });
    const ds = mul(mul(p, sub(dp, sum(mul(dp, p), -1, true))), scale);
    if (c.needs[0]) dq = matmul(ds, k!);
    if (c.needs[1]) dk = matmul(ds, q!, { transposeA: true });
  }
  return [dq, dk, c.needs[2] ? matmul(p, g, { transposeA: true }) : null, ...(c.inputs.length > 3 ? [null] : [])];
}

/** The adjoint (with respect to dy) of max-pool's backward pass: g read at each window's argmax. */
function maxPoolBackwardAdjoint(x: Tensor, g: Tensor, p: WindowParams): Tensor {
  const cols = extractPatches(x, p, -Infinity);
  const [n, oh, ow, kh, kw, ch] = cols.shape as [number, number, number, number, number, number];
  const flat = reshape(cols, [n, oh, ow, kh * kw, ch]);
  const am = reshape(argmax(flat, 3), [n, oh, ow, 1, ch]);
  const ks = reshape(arange(kh * kw), [1, 1, 1, kh * kw, 1]);
  const mask = cast(equal(am, ks), 'float32');
  const gcols = reshape(extractPatches(g, p, 0), [n, oh, ow, kh * kw, ch]);
  return sum(mul(mask, gcols), 3);
}

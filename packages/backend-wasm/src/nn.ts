/**
 * The fused kernels: matmul epilogue, conv2d and its gradients, pooling, softmax,
 * softmax cross-entropy, layer norm and the in-place optimizer step.
 * @module
 */
import type { Activation, OptimizerHyper, OptimizerKind, View, WindowParams } from '@tessera/core';
import { ACTIVATION, BINARY, OPTIMIZER } from './codes.js';
import { gemm, gemmArgs, intoContiguous, materialize, matmulInto } from './ops.js';
import { split, type Runtime } from './runtime.js';


/** Floats of im2col scratch per thread and chunk (1 MiB). */
const COL_FLOATS = 1 << 18;

export function matmulFused(rt: Runtime, a: View, b: View, bias: View | null, activation: Activation, out: View): void {
  if (out.size === 0) return;
  const act = ACTIVATION[activation];
  if (act === undefined) throw new Error(`wasm backend: unknown activation '${String(activation)}'`);
  const m = rt.mark();
  try {
    const bp = bias === null ? 0 : materialize(rt, bias);
    intoContiguous(rt, out, (c) => matmulInto(rt, a, b, out.shape, c, bp, act));
  } finally {
    rt.freeTemps(m);
  }
}

interface Geometry {
  n: number; h: number; w: number; c: number; kh: number; kw: number; cout: number; oh: number; ow: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}

function geometry(xShape: readonly number[], fShape: readonly number[], yShape: readonly number[], p: WindowParams): Geometry {
  return {
    n: xShape[0]!, h: xShape[1]!, w: xShape[2]!, c: xShape[3]!, kh: fShape[0]!, kw: fShape[1]!, cout: fShape[3]!,
    oh: yShape[1]!, ow: yShape[2]!, sh: p.strides[0], sw: p.strides[1], dh: p.dilations[0], dw: p.dilations[1],
    pt: p.pads[0], pl: p.pads[2],
  };
}

function writeGeometry(I: Int32Array, q: number, g: Geometry): void {
  I[q] = g.n; I[q + 1] = g.h; I[q + 2] = g.w; I[q + 3] = g.c; I[q + 4] = g.kh; I[q + 5] = g.kw; I[q + 6] = g.cout;
  I[q + 7] = g.oh; I[q + 8] = g.ow; I[q + 9] = g.sh; I[q + 10] = g.sw; I[q + 11] = g.dh; I[q + 12] = g.dw;
  I[q + 13] = g.pt; I[q + 14] = g.pl;
}

function pointwise(g: Geometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.oh === g.h && g.ow === g.w;
}

/** Rows per im2col chunk (a multiple of 4 when possible) and the scratch it needs. */
function chunk(K: number, rows: number): number {
  const r = Math.max(1, Math.min(rows, Math.floor(COL_FLOATS / Math.max(1, K))));
  return r >= 8 ? r - (r % 4) : r;
}

export function conv2d(rt: Runtime, x: View, filter: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(x.shape, filter.shape, out.shape, p);
  const K = g.kh * g.kw * g.c, rows = g.n * g.oh * g.ow;
  const m = rt.mark();
  try {
    const xp = materialize(rt, x), fp = materialize(rt, filter);
    intoContiguous(rt, out, (o) => {
      if (pointwise(g) || K === 0) {
        gemm(rt, gemmArgs(rows, g.cout, K, xp, K, 1, fp, g.cout, 1, o, g.cout));
        return;
      }
      const parts = rt.parts((2 * rows * K * g.cout) / 50, Math.ceil(rows / 4));
      const cuts = split(rows, parts, 4);
      const steps: number[] = [], cols: number[] = [];
      for (let t = 0; t < parts; t++) {
        const s = chunk(K, cuts[t + 1]! - cuts[t]!);
        steps.push(s);
        cols.push(rt.tmp(s * K * 4));
      }
      rt.run('conv2d_p', parts, (t, q) => {
        const I = rt.heap.i32;
        writeGeometry(I, q, g);
        I[q + 15] = xp; I[q + 16] = fp; I[q + 17] = o; I[q + 18] = cuts[t]!; I[q + 19] = cuts[t + 1]!;
        I[q + 20] = cols[t]!; I[q + 21] = steps[t]!; I[q + 22] = rt.scratch[t]!;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function conv2dBackpropInput(rt: Runtime, dy: View, filter: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(out.shape, filter.shape, dy.shape, p);
  const K = g.kh * g.kw * g.c, rows = g.n * g.oh * g.ow;
  const m = rt.mark();
  try {
    const dp = materialize(rt, dy), fp = materialize(rt, filter);
    intoContiguous(rt, out, (o) => {
      if (pointwise(g)) {
        gemm(rt, gemmArgs(rows, K, g.cout, dp, g.cout, 1, fp, 1, g.cout, o, K));
        return;
      }
      const parts = rt.parts((2 * rows * K * g.cout) / 50, g.n);
      const cuts = split(g.n, parts, 1);
      const plane = g.oh * g.ow;
      const steps: number[] = [], cols: number[] = [];
      for (let t = 0; t < parts; t++) {
        const s = chunk(K, Math.max(1, (cuts[t + 1]! - cuts[t]!) * plane));
        steps.push(s);
        cols.push(rt.tmp(s * K * 4));
      }
      rt.run('conv2d_bi_p', parts, (t, q) => {
        const I = rt.heap.i32;
        writeGeometry(I, q, g);
        I[q + 15] = dp; I[q + 16] = fp; I[q + 17] = o; I[q + 18] = cuts[t]!; I[q + 19] = cuts[t + 1]!;
        I[q + 20] = cols[t]!; I[q + 21] = steps[t]!; I[q + 22] = rt.scratch[t]!;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function conv2dBackpropFilter(rt: Runtime, x: View, dy: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(x.shape, out.shape, dy.shape, p);
  const K = g.kh * g.kw * g.c, rows = g.n * g.oh * g.ow;
  const m = rt.mark();
  try {
    const xp = materialize(rt, x), dp = materialize(rt, dy);
    intoContiguous(rt, out, (o) => {
      if (rows === 0) {
        rt.heap.f32.fill(0, o >> 2, (o >> 2) + out.size);
        return;
      }
      if (pointwise(g)) {
        gemm(rt, gemmArgs(K, g.cout, rows, xp, 1, K, dp, g.cout, 1, o, g.cout));
        return;
      }
      const parts = rt.parts((2 * rows * K * g.cout) / 50, Math.ceil(rows / 64));
      const cuts = split(rows, parts, 4);
      const steps: number[] = [], cols: number[] = [], dst: number[] = [];
      for (let t = 0; t < parts; t++) {
        const s = chunk(K, cuts[t + 1]! - cuts[t]!);
        steps.push(s);
        cols.push(rt.tmp(s * K * 4));
        dst.push(t === 0 ? o : rt.tmp(K * g.cout * 4));
      }
      rt.run('conv2d_bf_p', parts, (t, q) => {
        const I = rt.heap.i32;
        writeGeometry(I, q, g);
        I[q + 15] = xp; I[q + 16] = dp; I[q + 17] = dst[t]!; I[q + 18] = cuts[t]!; I[q + 19] = cuts[t + 1]!;
        I[q + 20] = cols[t]!; I[q + 21] = steps[t]!; I[q + 22] = rt.scratch[t]!;
      });
      // Sum the per-thread partial gradients into out.
      for (let t = 1; t < parts; t++) rt.ex['binary']!(BINARY.add, 0, 1, K * g.cout, o, 0, 1, dst[t]!, 0, 1, o);
    });
  } finally {
    rt.freeTemps(m);
  }
}

function poolParams(I: Int32Array, q: number, kind: 'max' | 'avg', x: readonly number[], y: readonly number[], p: WindowParams): void {
  I[q] = kind === 'max' ? 0 : 1;
  I[q + 1] = x[0]!; I[q + 2] = x[1]!; I[q + 3] = x[2]!; I[q + 4] = x[3]!; I[q + 5] = y[1]!; I[q + 6] = y[2]!;
  I[q + 7] = p.window[0]; I[q + 8] = p.window[1]; I[q + 9] = p.strides[0]; I[q + 10] = p.strides[1];
  I[q + 11] = p.dilations[0]; I[q + 12] = p.dilations[1]; I[q + 13] = p.pads[0]; I[q + 14] = p.pads[2];
}

export function pool2d(rt: Runtime, kind: 'max' | 'avg', x: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  if (kind !== 'max' && kind !== 'avg') throw new Error(`wasm backend: unknown pooling '${String(kind)}'`);
  const m = rt.mark();
  try {
    const xp = materialize(rt, x);
    intoContiguous(rt, out, (o) => {
      const rows = out.shape[0]! * out.shape[1]!;
      const parts = rt.parts(out.size * p.window[0] * p.window[1] * 0.5, rows, true);
      const cuts = split(rows, parts, 1);
      rt.run('pool2d_p', parts, (t, q) => {
        const I = rt.heap.i32;
        poolParams(I, q, kind, x.shape, out.shape, p);
        I[q + 15] = xp; I[q + 16] = o; I[q + 17] = cuts[t]!; I[q + 18] = cuts[t + 1]!;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function pool2dBackward(rt: Runtime, kind: 'max' | 'avg', x: View, dy: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  if (kind !== 'max' && kind !== 'avg') throw new Error(`wasm backend: unknown pooling '${String(kind)}'`);
  const m = rt.mark();
  try {
    const xp = materialize(rt, x), dp = materialize(rt, dy);
    intoContiguous(rt, out, (o) => {
      const n = x.shape[0]!, c = x.shape[3]!;
      const parts = rt.parts(dy.size * p.window[0] * p.window[1] * 2, n);
      const cuts = split(n, parts, 1);
      const scr: number[] = [];
      for (let t = 0; t < parts; t++) scr.push(rt.tmp(8 * Math.max(1, c)));
      rt.run('pool2d_bwd_p', parts, (t, q) => {
        const I = rt.heap.i32;
        poolParams(I, q, kind, x.shape, dy.shape, p);
        I[q + 15] = xp; I[q + 16] = dp; I[q + 17] = o; I[q + 18] = cuts[t]!; I[q + 19] = cuts[t + 1]!; I[q + 20] = scr[t]!;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

/** Rows and row length of a last-axis kernel. */
function lastAxis(shape: readonly number[]): [number, number] {
  const n = shape.length === 0 ? 1 : shape[shape.length - 1]!;
  let rows = 1;
  for (let d = 0; d < shape.length - 1; d++) rows *= shape[d]!;
  return [rows, n];
}

export function softmax(rt: Runtime, x: View, log: boolean, out: View): void {
  if (out.size === 0) return;
  const [rows, n] = lastAxis(x.shape);
  const m = rt.mark();
  try {
    const xp = materialize(rt, x);
    intoContiguous(rt, out, (o) => {
      const parts = rt.parts(out.size * 2, rows, true);
      const cuts = split(rows, parts, 1);
      rt.run('softmax_p', parts, (t, q) => {
        const I = rt.heap.i32;
        I[q] = cuts[t]!; I[q + 1] = cuts[t + 1]!; I[q + 2] = n; I[q + 3] = xp; I[q + 4] = o; I[q + 5] = log ? 1 : 0;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function softmaxCrossEntropy(rt: Runtime, logits: View, labels: View, out: View): void {
  if (out.size === 0) return;
  const [rows, n] = lastAxis(logits.shape);
  const m = rt.mark();
  try {
    const xp = materialize(rt, logits), yp = materialize(rt, labels);
    intoContiguous(rt, out, (o) => {
      const parts = rt.parts(logits.size * 2, rows, true);
      const cuts = split(rows, parts, 1);
      rt.run('sce_p', parts, (t, q) => {
        const I = rt.heap.i32;
        I[q] = cuts[t]!; I[q + 1] = cuts[t + 1]!; I[q + 2] = n; I[q + 3] = xp; I[q + 4] = yp; I[q + 5] = o;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function layerNorm(rt: Runtime, x: View, gamma: View, beta: View, epsilon: number, out: View): void {
  if (out.size === 0) return;
  const [rows, n] = lastAxis(x.shape);
  const m = rt.mark();
  try {
    const xp = materialize(rt, x), gp = materialize(rt, gamma), bp = materialize(rt, beta);
    intoContiguous(rt, out, (o) => {
      const parts = rt.parts(x.size * 1, rows, true);
      const cuts = split(rows, parts, 1);
      rt.run('layernorm_p', parts, (t, q) => {
        const I = rt.heap.i32;
        I[q] = cuts[t]!; I[q + 1] = cuts[t + 1]!; I[q + 2] = n; I[q + 3] = xp; I[q + 4] = gp; I[q + 5] = bp;
        rt.heap.f32[q + 6] = epsilon;
        I[q + 7] = o;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}


export function optimizerStep(
  rt: Runtime, kind: OptimizerKind, params: readonly View[], grads: readonly View[],
  state: readonly (readonly View[])[], h: OptimizerHyper,
): void {
  const code = OPTIMIZER[kind];
  if (code === undefined) throw new Error(`wasm backend: unknown optimizer '${String(kind)}'`);
  const lr = h.lr;
  const b1 = h.beta1 ?? 0.9, b2 = h.beta2 ?? 0.999;
  const wd = h.weightDecay ?? 0;
  const alpha = (lr * Math.sqrt(1 - b2 ** h.step)) / (1 - b1 ** h.step);
  const floats = [lr, h.momentum ?? 0, b1, b2, h.epsilon ?? 1e-7, wd > 0 ? lr * wd : 0, alpha, 1 - b1, 1 - b2];
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!, n = p.size;
    if (n === 0) continue;
    const m = rt.mark();
    try {
      const pp = rt.ptr(p);
      const gp = materialize(rt, grads[i]!);
      const st = state[i] ?? [];
      const s0 = st[0] ? rt.ptr(st[0]) : 0, s1 = st[1] ? rt.ptr(st[1]) : 0;
      const parts = rt.parts(n * 1, Math.ceil(n / 4096), true);
      const cuts = split(n, parts, 16);
      rt.run('opt_p', parts, (t, q) => {
        const I = rt.heap.i32, F = rt.heap.f32;
        const a = cuts[t]!;
        I[q] = code; I[q + 1] = cuts[t + 1]! - a;
        I[q + 2] = pp + 4 * a; I[q + 3] = gp + 4 * a; I[q + 4] = s0 === 0 ? 0 : s0 + 4 * a; I[q + 5] = s1 === 0 ? 0 : s1 + 4 * a;
        for (let k = 0; k < floats.length; k++) F[q + 6 + k] = floats[k]!;
      });
    } finally {
      rt.freeTemps(m);
    }
  }
}


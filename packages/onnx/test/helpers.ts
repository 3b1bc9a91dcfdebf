import { createJsBackend } from '@tessera/backend-js';
import { memory, setBackend, type Tensor, tensor } from '@tessera/core';
import type { Model } from '@tessera/nn';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { createTestBackend } from '../../../scripts/test-backend.mjs';
import { checkOnnx, exportOnnx, type ExportOptions } from '../src/index.js';
import { rng } from '../../../scripts/test-helpers.mjs';

/** Makes a fresh backend current: js, or the one TESSERA_TEST_BACKEND names. */
export async function useTestBackend(): Promise<void> {
  setBackend((await createTestBackend()) ?? (await createJsBackend()));
}

/** Live tensors and bytes now. */
export function snapshot(): { numTensors: number; numBytes: number } {
  const m = memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

/** Asserts that live tensors and bytes are back where `before` had them. */
export function expectNoLeak(before: { numTensors: number; numBytes: number }): void {
  expect(snapshot()).toEqual(before);
}

export { rng };

/** A float32 tensor of seeded uniform values in [lo, hi). */
export function randomTensor(shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * r()), shape);
}

/** An int32 tensor of seeded integers in [0, n). */
export function randomInts(shape: number[], n: number, seed: number): Tensor {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Int32Array.from({ length: size }, () => Math.floor(r() * n)), shape, 'int32');
}

/**
 * Replaces every weight with seeded random values (variances positive), so that biases,
 * batch-norm statistics and the like are not their trivial initial values.
 */
export function randomizeWeights(model: Model, seed: number): void {
  const entries = model.weightEntries;
  const values = entries.map((w, i) => {
    const positive = /variance/.test(w.name);
    return randomTensor([...w.variable.shape], seed * 1000 + i, positive ? 0.5 : -1, positive ? 2 : 1);
  });
  model.setWeights(values);
  for (const v of values) v.dispose();
}

/**
 * With TESSERA_ONNX_DUMP=<dir>, writes every exported file there, so that the official
 * checker can be run over them (`python3 test/onnx_checker.py <dir>`, needs `pip install onnx`).
 */
async function dumpForChecker(name: string, bytes: Uint8Array): Promise<void> {
  const dir = process.env.TESSERA_ONNX_DUMP;
  if (!dir) return;
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/${name}-${bytes.length}.onnx`, bytes);
}

/** Runs an exported model with onnxruntime-node (CPU). */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    // Asynchronous reads, so the suite also runs on backends without synchronous ones (WebGPU).
    for (const [name, t] of Object.entries(feeds)) {
      const data = await t.data();
      ortFeeds[name] = t.dtype === 'int32' ? new ort.Tensor('int32', Int32Array.from(data), [...t.shape]) : new ort.Tensor('float32', Float32Array.from(data), [...t.shape]);
    }
    const out = await session.run(ortFeeds);
    const res: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [k, v] of Object.entries(out)) res[k] = { data: v.data as Float32Array, dims: [...v.dims] };
    return res;
  } finally {
    await session.release();
  }
}

/** The worst |got − want| − (atol + rtol·|want|); ≤ 0 means every element is within tolerance. */
export function worstExcess(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, atol = 1e-5): { excess: number; index: number; got: number; want: number } {
  let worst = { excess: -Infinity, index: -1, got: 0, want: 0 };
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const e = Number.isNaN(g) || Number.isNaN(w) ? (Number.isNaN(g) && Number.isNaN(w) ? -1 : Infinity) : Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (e > worst.excess) worst = { excess: e, index: i, got: g, want: w };
  }
  return worst;
}

/**
 * Exports `model`, checks the file's structure, runs it in ONNX Runtime on each batch in
 * `batches` (one list of inputs per batch, in model-input order) and expects the outputs to
 * match `model.predict` within 1e-5 (absolute + relative). Disposes the batches and
 * predictions; returns the bytes.
 */
export async function expectRoundTrip(model: Model, batches: Tensor[][], opts: ExportOptions = {}, tol = { rtol: 1e-5, atol: 1e-5 }): Promise<Uint8Array> {
  const bytes = await exportOnnx(model, opts);
  const info = checkOnnx(bytes);
  await dumpForChecker(model.name, bytes);
  for (const xs of batches) {
    const feeds: Record<string, Tensor> = {};
    info.inputs.forEach((inp, i) => (feeds[inp.name] = xs[i]!));
    const got = await runOrt(bytes, feeds);
    const pred = model.predict(xs.length === 1 ? xs[0]! : xs);
    const preds = Array.isArray(pred) ? pred : [pred];
    try {
      for (const [i, o] of info.outputs.entries()) {
        const want = preds[i]!;
        const g = got[o.name]!;
        expect(g.dims, `output ${o.name} shape`).toEqual([...want.shape]);
        const w = worstExcess(g.data, await want.data(), tol.rtol, tol.atol);
        expect(w.excess, `output ${o.name}: element ${w.index} is ${w.got} in ONNX Runtime, ${w.want} in Tessera`).toBeLessThanOrEqual(0);
      }
    } finally {
      for (const p of preds) p.dispose();
      for (const x of xs) x.dispose();
    }
  }
  return bytes;
}

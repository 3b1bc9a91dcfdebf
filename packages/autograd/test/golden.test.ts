/**
 * Replays every golden case of kinds `activation`, `matmul` and `reduction` (ops.json,
 * layers.json) through the public API: the forward output and, per the golden gradient
 * convention, the gradients of `sum(output * upstream)`. One test per case, dispatching on
 * `kind` and `attrs`, so new cases are picked up without new code. Fused kernels on and off.
 */
import * as c from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { goldenCases, worstMismatch, type Golden, type GoldenCase, type GoldenTensor } from '@tessera/data/golden';
import { beforeAll, describe, expect, it } from 'vitest';
import { vjp } from '../src/index.js';
import { setupBackend, snapshot } from '../../../scripts/test-helpers.mjs';
import { getBackend as currentBackend } from '@tessera/core';
import { testBackendName } from '../../../scripts/test-backend.mjs';

beforeAll(setupBackend);

const RTOL = 1e-4;
const ATOL = 1e-5;

type Attrs = Record<string, unknown>;
const num = (a: Attrs, k: string, d: number): number => (typeof a[k] === 'number' ? (a[k] as number) : d);

/** Keras activation names → the core's functions. */
const ACTIVATIONS: Record<string, (x: Tensor, a: Attrs) => Tensor> = {
  relu: (x) => c.relu(x),
  relu6: (x) => c.relu6(x),
  leaky_relu: (x, a) => c.leakyRelu(x, num(a, 'negative_slope', num(a, 'alpha', 0.2))),
  elu: (x, a) => c.elu(x, num(a, 'alpha', 1)),
  selu: (x) => c.selu(x),
  sigmoid: (x) => c.sigmoid(x),
  tanh: (x) => c.tanh(x),
  softplus: (x) => c.softplus(x),
  softsign: (x) => c.softsign(x),
  silu: (x) => c.silu(x),
  swish: (x) => c.silu(x),
  gelu: (x, a) => c.gelu(x, a.approximate === true),
  gelu_tanh: (x) => c.gelu(x, true),
  softmax: (x, a) => c.softmax(x, num(a, 'axis', -1)),
  log_softmax: (x, a) => c.logSoftmax(x, num(a, 'axis', -1)),
  hard_sigmoid: (x) => c.hardSigmoid(x),
  exponential: (x) => c.exp(x),
  linear: (x) => c.mul(x, 1),
};

type Axis = number | number[] | undefined;
const REDUCTIONS: Record<string, (x: Tensor, axis: Axis, keep: boolean, a: Attrs) => Tensor> = {
  sum: (x, ax, k) => c.sum(x, ax, k),
  mean: (x, ax, k) => c.mean(x, ax, k),
  max: (x, ax, k) => c.max(x, ax, k),
  min: (x, ax, k) => c.min(x, ax, k),
  prod: (x, ax, k) => c.prod(x, ax, k),
  logsumexp: (x, ax, k) => c.logSumExp(x, ax, k),
  variance: (x, ax, k) => c.variance(x, ax, k),
  std: (x, ax, k) => c.std(x, ax, k),
  argmax: (x, ax) => c.argmax(x, ax as number | undefined),
  argmin: (x, ax) => c.argmin(x, ax as number | undefined),
  cumsum: (x, ax, _k, a) => c.cumsum(x, ax as number, { exclusive: a.exclusive === true, reverse: a.reverse === true }),
  cumprod: (x, ax, _k, a) => c.cumprod(x, ax as number, { exclusive: a.exclusive === true, reverse: a.reverse === true }),
};

/** The function a case describes, from its kind and attrs. */
function opOf(gc: GoldenCase): (...xs: Tensor[]) => Tensor {
  const a = gc.attrs;
  switch (gc.kind) {
    case 'activation': {
      const name = String(a.activation);
      const f = ACTIVATIONS[name];
      if (!f) throw new Error(`golden ${gc.id}: unknown activation '${name}'`);
      return (x) => f(x!, a);
    }
    case 'matmul':
      return (p, q) => c.matmul(p!, q!, { transposeA: a.transpose_a === true, transposeB: a.transpose_b === true });
    case 'reduction': {
      const f = REDUCTIONS[String(a.op)];
      if (!f) throw new Error(`golden ${gc.id}: unknown reduction '${String(a.op)}'`);
      return (x) => f(x!, (a.axis ?? undefined) as Axis, a.keepdims === true, a);
    }
    default:
      throw new Error(`golden ${gc.id}: kind ${gc.kind} is not replayed here`);
  }
}

function toTensor(h: GoldenTensor): Tensor {
  if (h.dtype === 'I32') return c.tensor(Int32Array.from(h.data), h.shape, 'int32');
  return c.tensor(Float32Array.from(h.data), h.shape, 'float32');
}

async function expectClose(got: Tensor, want: GoldenTensor, what: string): Promise<void> {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  if (want.dtype === 'I32') expect(got.dtype, `${what}: dtype`).toBe('int32');
  const w = worstMismatch(await got.data(), want.data, RTOL, ATOL);
  expect(w.excess, `${what}: element ${w.index} is ${w.got}, expected ${w.want}`).toBeLessThanOrEqual(0);
}

/**
 * Replays one case: forward output, and the gradients when the case lists them. The ops run
 * inside `withFusedKernels` (which is synchronous); the results are read afterwards with
 * `await data()`, which works on every backend (WebGPU has no synchronous read).
 */
async function replay(g: Golden, gc: GoldenCase, fused: boolean): Promise<void> {
  const get = (name: string): GoldenTensor => {
    const t = g.tensors.get(name);
    if (!t) throw new Error(`golden ${gc.id}: tensor ${name} missing`);
    return t;
  };
  const names = [...gc.inputs, ...(gc.params ?? [])];
  const fn = opOf(gc);
  const xs = names.map((n) => toTensor(get(n)));
  const want = get(gc.outputs[0]!);
  const gradNames = Object.entries(gc.grads ?? {});
  if (gradNames.length === 0 || !gc.upstream) {
    const y = c.withFusedKernels(fused, () => fn(...xs));
    try {
      await expectClose(y, want, `${gc.id} output`);
    } finally {
      c.dispose([y, ...xs]);
    }
    return;
  }
  const up = toTensor(get(gc.upstream));
  const before = snapshot();
  const { value, grads } = c.withFusedKernels(fused, () => vjp(fn, xs, up));
  try {
    await expectClose(value, want, `${gc.id} output`);
    for (const [input, gradName] of gradNames) {
      const k = names.indexOf(input);
      expect(k, `${gc.id}: gradient for unknown tensor ${input}`).toBeGreaterThanOrEqual(0);
      await expectClose(grads[k]!, get(gradName), `${gc.id} gradient wrt ${input}`);
    }
  } catch (e) {
    c.dispose([value, ...grads, up, ...xs]);
    throw e;
  }
  c.dispose([value, ...grads]);
  expect(snapshot(), `${gc.id}: leak`).toEqual(before);
  c.dispose([up, ...xs]);
}

const cases = goldenCases(['activation', 'matmul', 'reduction']);
describe('golden activation, matmul and reduction cases', () => {
  it('runs on the backend TESSERA_TEST_BACKEND names (default js)', () => {
    expect(currentBackend().name).toBe(testBackendName());
  });

  it('finds the golden data (TESSERA_GOLDEN_DIR, default ../shared/golden)', () => {
    expect(cases.length === 0).toBe(false);
  });

  for (const { golden, gc } of cases) {
    it(`${golden.manifest.file}: ${gc.kind} ${gc.id}`, async () => {
      await replay(golden, gc, true);
      await replay(golden, gc, false);
    });
  }
});

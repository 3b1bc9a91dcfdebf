/**
 * Bad input everywhere (layers): every layer factory of @tessera/nn is constructed with each
 * option in turn replaced by a bad value (negative, fractional, NaN, a string for a number,
 * an unknown name), and a valid layer is applied to bad inputs (wrong rank, wrong dtype,
 * NaN/Inf, an empty batch, a disposed tensor, a tensor of another backend, a non-tensor).
 * Each case must give a typed error or a result (invalid options and inputs: a typed error),
 * leak nothing once the layer is disposed, and behave the same on every backend.
 */
import * as core from '@tessera/core';
import { type Backend, type DType, type Tensor, TesseraError } from '@tessera/core';
import { layers } from '@tessera/nn';
import { describe, expect, it } from 'vitest';
import { accounting, BACKENDS, type BackendName, openBackend, use } from './support/backends.js';
import { close } from './support/sweep.js';

interface LayerSpec {
  factory: keyof typeof layers;
  args: Record<string, unknown>;
  /** Input shapes (several for merge layers). */
  inputs: number[][];
  dtype?: DType;
  /** Integer inputs lie in [0, maxIndex). */
  maxIndex?: number;
}

const SPECS: LayerSpec[] = [
  { factory: 'dense', args: { units: 3, activation: 'relu' }, inputs: [[2, 4]] },
  { factory: 'flatten', args: {}, inputs: [[2, 3, 2]] },
  { factory: 'reshape', args: { targetShape: [3, 2] }, inputs: [[2, 6]] },
  { factory: 'dropout', args: { rate: 0.5, seed: 1 }, inputs: [[2, 4]] },
  { factory: 'activation', args: { activation: 'tanh' }, inputs: [[2, 4]] },
  { factory: 'embedding', args: { inputDim: 5, outputDim: 3 }, inputs: [[2, 4]], dtype: 'int32', maxIndex: 5 },
  { factory: 'batchNormalization', args: { axis: -1, momentum: 0.9, epsilon: 1e-3 }, inputs: [[3, 4]] },
  { factory: 'layerNormalization', args: { axis: -1, epsilon: 1e-3 }, inputs: [[3, 4]] },
  { factory: 'conv2d', args: { filters: 2, kernelSize: [3, 3], strides: 1, padding: 'same', dilationRate: 1 }, inputs: [[1, 5, 5, 2]] },
  { factory: 'depthwiseConv2d', args: { kernelSize: 3, depthMultiplier: 2, padding: 'valid' }, inputs: [[1, 5, 5, 2]] },
  { factory: 'maxPooling2d', args: { poolSize: 2, strides: 2, padding: 'valid' }, inputs: [[1, 4, 4, 2]] },
  { factory: 'averagePooling2d', args: { poolSize: [2, 2], padding: 'same' }, inputs: [[1, 5, 5, 2]] },
  { factory: 'globalAveragePooling2d', args: { keepdims: false }, inputs: [[1, 4, 4, 2]] },
  { factory: 'globalMaxPooling2d', args: { keepdims: true }, inputs: [[1, 4, 4, 2]] },
  { factory: 'add', args: {}, inputs: [[2, 3], [2, 3]] },
  { factory: 'concatenate', args: { axis: -1 }, inputs: [[2, 3], [2, 2]] },
  { factory: 'multiHeadAttention', args: { numHeads: 2, keyDim: 2 }, inputs: [[1, 3, 4], [1, 3, 4]] },
  { factory: 'transformerEncoder', args: { numHeads: 2, intermediateDim: 8 }, inputs: [[1, 3, 4]] },
  { factory: 'positionEmbedding', args: { maxLength: 6 }, inputs: [[1, 3, 4]] },
  { factory: 'sinusoidalPositionEncoding', args: { maxLength: 6 }, inputs: [[1, 3, 4]] },
  { factory: 'tokenAndPositionEmbedding', args: { vocabSize: 7, maxLength: 6, embeddingDim: 4 }, inputs: [[1, 3]], dtype: 'int32', maxIndex: 7 },
  { factory: 'rotaryEmbedding', args: { maxWavelength: 10000 }, inputs: [[1, 3, 4]] },
];

/** Factories the sweep leaves out, with the reason (a factory in neither list fails the coverage test). */
const NOT_SWEPT: Record<string, string> = {
  inputLayer: 'a graph placeholder; applied to nothing (its bad shapes are covered by the loader fuzz and the model tests)',
  transformerDecoder: 'needs a graph of two inputs with a cross-attention cache; its sub-layers (multiHeadAttention, layerNormalization, dense) are swept',
};

type Outcome = { kind: 'error'; cls: string; message: string; typed: boolean } | { kind: 'value'; text: string; values: number[] };

interface Case {
  id: string;
  must: boolean;
  classOnly?: boolean;
  args: Record<string, unknown>;
  inputs: (ctx: Ctx) => unknown[];
}

class Ctx {
  made: Tensor[] = [];
  constructor(
    readonly current: Backend,
    readonly other: Backend,
  ) {}
  t(shape: number[], dtype: DType, maxIndex?: number, fill?: number, on?: Backend): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, (_, i) => (fill !== undefined ? fill : dtype === 'int32' ? i % (maxIndex ?? 3) : dtype === 'bool' ? i % 2 : ((i * 37) % 17) / 8.5 - 1 + 0.05));
    if (on) core.setBackend(on);
    try {
      const t = core.tensor(dtype === 'bool' ? v.map((x) => x !== 0) : v, shape, dtype);
      this.made.push(t);
      return t;
    } finally {
      if (on) core.setBackend(this.current);
    }
  }
}

function casesOf(s: LayerSpec): Case[] {
  const dt = s.dtype ?? 'float32';
  const ok = (ctx: Ctx): unknown[] => s.inputs.map((sh) => ctx.t(sh, dt, s.maxIndex));
  const cases: Case[] = [{ id: `${s.factory}(valid)`, must: false, args: s.args, inputs: ok }];
  for (const [k, v] of Object.entries(s.args)) {
    const bad = (label: string, value: unknown, must: boolean): void => void cases.push({ id: `${s.factory} ${k}=${label}`, must, args: { ...s.args, [k]: value }, inputs: ok });
    if (typeof v === 'number') {
      const isInt = Number.isInteger(v) && !['epsilon', 'momentum', 'rate', 'maxWavelength'].includes(k);
      if (k !== 'axis') bad('-1', -1, true);
      if (isInt) bad('1.5', 1.5, true);
      bad('NaN', NaN, true);
      bad('string', '3', true);
      if (isInt && k !== 'axis' && k !== 'seed') bad('1e9', 1e9, false);
      if (k === 'axis') bad('out-of-range', 7, true);
    } else if (typeof v === 'string') bad('bogus', 'bogus', true);
    else if (Array.isArray(v)) {
      bad('[0,...]', v.map((x, i) => (i === 0 ? 0 : x)), true);
      bad('[-1,...]', v.map((x, i) => (i === 0 ? -1 : x)), k !== 'targetShape'); // reshape: -1 is the inferred axis
      bad('[1.5,...]', v.map((x, i) => (i === 0 ? 1.5 : x)), true);
      bad('string', 'x', true);
    } else if (typeof v === 'boolean') bad('string', 'yes', false);
  }
  const withInput = (label: string, must: boolean, make: (ctx: Ctx, i: number) => unknown, classOnly = false): void =>
    void cases.push({ id: `${s.factory} input ${label}`, must, classOnly, args: s.args, inputs: (ctx) => s.inputs.map((sh, i) => (i === 0 ? make(ctx, i) : ctx.t(sh, dt, s.maxIndex))) });
  const sh0 = s.inputs[0]!;
  withInput('rank+1', false, (c) => c.t([...sh0, 2], dt, s.maxIndex));
  withInput('rank-1', false, (c) => c.t(sh0.slice(1), dt, s.maxIndex));
  withInput('dtype', false, (c) => c.t(sh0, dt === 'int32' ? 'float32' : 'int32', s.maxIndex));
  withInput('bool', false, (c) => c.t(sh0, 'bool'));
  withInput('empty-batch', false, (c) => c.t([0, ...sh0.slice(1)], dt, s.maxIndex));
  if (dt === 'float32') {
    withInput('nan', false, (c) => c.t(sh0, dt, undefined, NaN));
    withInput('inf', false, (c) => c.t(sh0, dt, undefined, Infinity));
  } else withInput('index-out-of-range', false, (c) => c.t(sh0, dt, undefined, 999));
  withInput('disposed', true, (c) => {
    const t = c.t(sh0, dt, s.maxIndex);
    t.dispose();
    return t;
  });
  withInput('other-backend', false, (c) => c.t(sh0, dt, s.maxIndex, undefined, c.other), true);
  withInput('null', true, () => null);
  withInput('string', true, () => 'x');
  return cases;
}

const CASES = SPECS.flatMap(casesOf);
const outcomes = new Map<BackendName, Map<string, Outcome>>();
let total = 0;

async function run(c: Case, spec: LayerSpec, ctx: Ctx): Promise<{ outcome: Outcome; dispose: () => void }> {
  let layer: { apply(x: unknown, o?: unknown): unknown; dispose(): void } | null = null;
  let result: unknown;
  const fail = (e: unknown): Outcome => ({ kind: 'error', cls: (e as Error)?.constructor?.name ?? typeof e, message: String((e as Error)?.message ?? e), typed: e instanceof TesseraError });
  const cleanup = (): void => {
    for (const t of [result].flat() as unknown[]) if (t instanceof core.Tensor && !t.isDisposed) t.dispose();
    layer?.dispose();
  };
  try {
    core.setSeed(1234); // unseeded initializers draw the same weights on every backend
    const make = layers[spec.factory] as unknown as (a: unknown) => typeof layer;
    layer = make({ ...c.args, name: 'L' });
    const ins = c.inputs(ctx);
    result = layer!.apply(ins.length === 1 ? ins[0] : ins, { training: true });
  } catch (e) {
    return { outcome: fail(e), dispose: cleanup };
  }
  try {
    const ts = [result].flat() as Tensor[];
    const values = (await Promise.all(ts.map((t) => t.data()))).flatMap((d) => Array.from(d, Number));
    return { outcome: { kind: 'value', text: ts.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' '), values }, dispose: cleanup };
  } catch (e) {
    return { outcome: fail(e), dispose: cleanup };
  }
}

it('the sweep covers every layer factory of @tessera/nn', () => {
  const covered = new Set([...SPECS.map((s) => s.factory), ...Object.keys(NOT_SWEPT)]);
  expect(Object.keys(layers).filter((f) => !covered.has(f as keyof typeof layers))).toEqual([]);
});

describe.each(BACKENDS)('bad input to every layer on %s', (name) => {
  it(`${CASES.length} cases: typed errors or results, no leaks`, async (ctx) => {
    const { backend, reason } = await openBackend(name);
    if (backend === null) return ctx.skip(reason!);
    const other = name === 'js' ? ((await openBackend('native')).backend ?? (await openBackend('wasm')).backend ?? backend) : (await openBackend('js')).backend!;
    use(backend);
    const mine = new Map<string, Outcome>();
    const failures: string[] = [];
    for (const c of CASES) {
      const spec = SPECS.find((s) => c.id.startsWith(`${s.factory} `) || c.id.startsWith(`${s.factory}(`))!;
      const start = [accounting(backend), accounting(other)];
      const cx = new Ctx(backend, other);
      const { outcome, dispose } = await run(c, spec, cx);
      dispose();
      for (const t of cx.made) if (!t.isDisposed) t.dispose();
      use(backend);
      total++;
      mine.set(c.id, outcome);
      if (outcome.kind === 'error' && !outcome.typed) failures.push(`${c.id}: untyped ${outcome.cls}: ${outcome.message}`);
      if (outcome.kind === 'value' && c.must) failures.push(`${c.id}: gave ${outcome.text} instead of a typed error`);
      const end = [accounting(backend), accounting(other)];
      if (JSON.stringify(end) !== JSON.stringify(start)) failures.push(`${c.id}: leaked ${JSON.stringify(start)} -> ${JSON.stringify(end)}`);
    }
    outcomes.set(name, mine);
    console.log(`[reliability] layer sweep on ${name}: ${CASES.length} cases`);
    expect(failures).toEqual([]);
  });
});

it('every layer case has the same outcome on every backend', async (ctx) => {
  const ref = outcomes.get('js');
  if (ref === undefined) return ctx.skip('the js sweep did not run');
  const norm = (m: string): string => m.replace(/#\d+/g, '#');
  const diffs: string[] = [];
  for (const [name, mine] of outcomes) {
    for (const c of CASES) {
      const a = ref.get(c.id)!;
      const b = mine.get(c.id)!;
      // Out-of-range indices: an IndexError where indices can be read synchronously; WebGPU
      // cannot check them and documents the result instead (rows of zeros; core's README).
      const asyncReads = !(await openBackend(name)).backend!.caps.syncRead;
      if (asyncReads && c.id.endsWith('index-out-of-range') && a.kind === 'error' && a.cls === 'IndexError' && b.kind === 'value') continue;
      if (a.kind === 'error' && b.kind === 'error') {
        if (a.cls !== b.cls || (!c.classOnly && norm(a.message) !== norm(b.message))) diffs.push(`${c.id}: js ${a.cls}: ${a.message} vs ${name} ${b.cls}: ${b.message}`);
      } else if (a.kind === 'value' && b.kind === 'value') {
        if (a.text !== b.text || a.values.length !== b.values.length || !a.values.every((x, i) => close(b.values[i]!, x) || (!Number.isFinite(x) && !Number.isFinite(b.values[i]!)))) {
          diffs.push(`${c.id}: js ${a.text} vs ${name} ${b.text}`);
        }
      } else diffs.push(`${c.id}: js ${a.kind === 'error' ? a.message : a.text} vs ${name} ${b.kind === 'error' ? b.message : b.text}`);
    }
  }
  console.log(`[reliability] layer sweep: ${total} cases run in all`);
  expect(diffs).toEqual([]);
});

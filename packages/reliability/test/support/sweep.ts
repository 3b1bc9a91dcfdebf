/**
 * The bad-input sweep machinery: generates the cases of an {@link OpSpec} (one mutation of one
 * argument each), runs a case on a backend and reduces what happened to a comparable outcome
 * (a typed error's class and message, or the result's dtype, shape and values).
 */
import * as core from '@tessera/core';
import { type Backend, type DType, setBackend, Tensor, TesseraError } from '@tessera/core';
import type { ArgSpec, OpSpec } from './op-specs.js';

/** What one case did. */
export type Outcome =
  | { kind: 'error'; cls: string; message: string; typed: boolean }
  | { kind: 'value'; text: string; values: number[][] };

/** One generated case: the op, which argument was changed and how, and whether it must throw. */
export interface SweepCase {
  id: string;
  op: string;
  /** A kernel-level building block: typed errors are not required (see OpSpec.lowLevel). */
  lowLevel: boolean;
  /** Must raise a typed error (the input is invalid whatever the op's documentation says). */
  mustThrow: boolean;
  /** The outcome depends on which backend the foreign tensor came from: compare only its class. */
  classOnly: boolean;
  build(ctx: BuildContext): unknown[];
}

/** Makes the tensors of a case on the current backend (or another), and remembers them for disposal. */
export class BuildContext {
  readonly made: Tensor[] = [];
  constructor(
    readonly current: Backend,
    readonly other: Backend,
  ) {}
  tensor(shape: readonly number[], dtype: DType = 'float32', data?: readonly number[], fillWith?: number, on?: Backend): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) =>
      fillWith !== undefined ? fillWith : data !== undefined ? data[i % data.length]! : dtype === 'float32' ? (((i * 37) % 17) / 8.5 - 1 + 0.05) : dtype === 'int32' ? i % 3 : i % 2,
    );
    if (on !== undefined) setBackend(on);
    try {
      const t = core.tensor(dtype === 'bool' ? values.map((v) => v !== 0) : values, [...shape], dtype);
      this.made.push(t);
      return t;
    } finally {
      if (on !== undefined) setBackend(this.current);
    }
  }
  disposeAll(): void {
    for (const t of this.made) if (!t.isDisposed) t.dispose();
  }
}

type Mut = { name: string; must: boolean; classOnly?: boolean; value: (ctx: BuildContext) => unknown };

function baseValue(ctx: BuildContext, a: ArgSpec): unknown {
  switch (a.kind) {
    case 'tensor':
      return ctx.tensor(a.shape, a.dtype ?? 'float32', a.data);
    case 'tensors':
      return a.shapes.map((s) => ctx.tensor(s));
    case 'axis':
    case 'axes':
    case 'shape':
    case 'ints':
    case 'size':
    case 'seed':
    case 'num':
    case 'lit':
      return a.value;
  }
}

function mutations(a: ArgSpec): Mut[] {
  const out: Mut[] = [];
  const must = (name: string, value: (ctx: BuildContext) => unknown): void => void out.push({ name, must: true, value });
  const may = (name: string, value: (ctx: BuildContext) => unknown): void => void out.push({ name, must: false, value });
  switch (a.kind) {
    case 'tensor': {
      const dt = a.dtype ?? 'float32';
      const s = a.shape;
      must('disposed', (c) => {
        const t = c.tensor(s, dt, a.data);
        t.dispose();
        return t;
      });
      if (!a.optional) must('null', () => null);
      must('string', () => 'x');
      must('plain-array', () => [[1, 2]]);
      if (!a.operand) must('number', () => 2);
      out.push({ name: 'other-backend', must: false, classOnly: true, value: (c) => c.tensor(s, dt, a.data, undefined, c.other) });
      for (const d of ['float32', 'int32', 'bool'] as const) if (d !== dt) may(`dtype-${d}`, (c) => c.tensor(s, d));
      may('rank+1', (c) => c.tensor([...s, 2], dt));
      if (s.length > 0) may('rank-1', (c) => c.tensor(s.slice(1), dt, a.data));
      may('scalar', (c) => c.tensor([], dt, a.data));
      may('empty', (c) => c.tensor(s.length > 0 ? [0, ...s.slice(1)] : [0], dt));
      if (s.length > 0) may('mismatched', (c) => c.tensor([...s.slice(0, -1), s[s.length - 1]! + 1], dt));
      if (dt === 'float32') {
        may('nan', (c) => c.tensor(s, dt, undefined, NaN));
        may('inf', (c) => c.tensor(s, dt, undefined, Infinity));
        may('-inf', (c) => c.tensor(s, dt, undefined, -Infinity));
      }
      if (dt === 'int32' && a.data !== undefined) {
        may('index-too-big', (c) => c.tensor(s, dt, a.data!.map((v, i) => (i === 0 ? 1000 : v))));
        may('index-negative', (c) => c.tensor(s, dt, a.data!.map((v, i) => (i === 0 ? -1000 : v))));
      }
      break;
    }
    case 'tensors':
      may('empty-list', () => []);
      must('not-a-list', () => 7);
      must('with-disposed', (c) => {
        const ts = a.shapes.map((s) => c.tensor(s));
        ts[0]!.dispose();
        return ts;
      });
      must('with-null', (c) => [null, ...a.shapes.slice(1).map((s) => c.tensor(s))]);
      may('mixed-dtypes', (c) => a.shapes.map((s, i) => c.tensor(s, i === 0 ? 'int32' : 'float32')));
      may('mismatched', (c) => a.shapes.map((s, i) => c.tensor(i === 0 ? [...s, 2] : s)));
      break;
    case 'axis':
      must('axis=rank', () => a.rank);
      must('axis=-rank-1', () => -a.rank - 1);
      must('axis=0.5', () => 0.5);
      must('axis=NaN', () => NaN);
      must('axis=string', () => '1');
      break;
    case 'axes':
      must('axes-out-of-range', () => [a.rank]);
      must('axes-fractional', () => [0.5]);
      must('axes-NaN', () => [NaN]);
      may('axes-duplicate', () => [a.value[0]!, a.value[0]!]);
      break;
    case 'shape':
      must('shape-negative', () => a.value.map((v, i) => (i === 0 ? -2 : v)));
      must('shape-fractional', () => a.value.map((v, i) => (i === 0 ? 1.5 : v)));
      must('shape-NaN', () => a.value.map((v, i) => (i === 0 ? NaN : v)));
      must('shape-Infinity', () => a.value.map((v, i) => (i === 0 ? Infinity : v)));
      must('shape-huge', () => a.value.map((v, i) => (i === 0 ? 1e12 : v)));
      must('shape-null', () => null);
      break;
    case 'ints':
      must('ints-fractional', () => a.value.map((v, i) => (i === 0 ? 1.5 : v)));
      must('ints-NaN', () => a.value.map((v, i) => (i === 0 ? NaN : v)));
      if (!a.optional) must('ints-null', () => null);
      break;
    case 'size':
      must('size=-1', () => -1);
      must('size=1.5', () => 1.5);
      must('size=NaN', () => NaN);
      must('size=Infinity', () => Infinity);
      must('size=string', () => '2');
      break;
    case 'seed':
      must('seed=-1', () => -1);
      must('seed=1.5', () => 1.5);
      must('seed=NaN', () => NaN);
      must('seed=2^60', () => 2 ** 60);
      break;
    case 'num':
      may('num=NaN', () => NaN);
      may('num=Infinity', () => Infinity);
      may('num=-Infinity', () => -Infinity);
      must('num=string', () => '1');
      break;
    case 'lit':
      if (typeof a.value === 'string' && !a.name) must('unknown-name', () => 'bogus');
      break;
  }
  return out;
}

/** Every case of one op: the valid call, then each mutation of each argument. */
export function casesOf(spec: OpSpec): SweepCase[] {
  const cases: SweepCase[] = [
    { id: `${spec.name}(valid)`, op: spec.name, lowLevel: spec.lowLevel ?? false, mustThrow: false, classOnly: false, build: (ctx) => spec.args.map((a) => baseValue(ctx, a)) },
  ];
  spec.args.forEach((arg, i) => {
    for (const m of mutations(arg)) {
      cases.push({
        id: `${spec.name} arg${i} ${m.name}`,
        op: spec.name,
        lowLevel: spec.lowLevel ?? false,
        mustThrow: m.must && !spec.lowLevel,
        classOnly: m.classOnly ?? false,
        build: (ctx) => spec.args.map((a, k) => (k === i ? m.value(ctx) : baseValue(ctx, a))),
      });
    }
  });
  return cases;
}

async function describeValue(v: unknown): Promise<{ text: string; values: number[][] }> {
  if (v instanceof Tensor) {
    const data = Array.from(await v.data(), Number);
    return { text: `${v.dtype}[${v.shape.join(',')}]`, values: [data] };
  }
  if (Array.isArray(v) && v.every((t) => t instanceof Tensor)) {
    const parts = await Promise.all(v.map((t) => describeValue(t)));
    return { text: `[${parts.map((p) => p.text).join(' ')}]`, values: parts.flatMap((p) => p.values) };
  }
  if (v === undefined) return { text: 'void', values: [] };
  return { text: JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)), values: [] };
}

/** Tensors in a result (to dispose). */
export function tensorsIn(v: unknown): Tensor[] {
  if (v instanceof Tensor) return [v];
  if (Array.isArray(v)) return v.flatMap(tensorsIn);
  return [];
}

/** Runs a case's op on its args; returns the outcome and the result (yours to dispose). */
export async function runCase(c: SweepCase, args: unknown[]): Promise<{ outcome: Outcome; result: unknown }> {
  const fn = (core as unknown as Record<string, (...a: unknown[]) => unknown>)[c.op]!;
  let result: unknown;
  try {
    result = fn(...args);
  } catch (e) {
    const err = e as Error;
    return { outcome: { kind: 'error', cls: err?.constructor?.name ?? typeof e, message: String(err?.message ?? e), typed: e instanceof TesseraError }, result: undefined };
  }
  try {
    const d = await describeValue(result);
    return { outcome: { kind: 'value', ...d }, result };
  } catch (e) {
    // A failure only when reading (an asynchronous backend error) is still an outcome.
    const err = e as Error;
    return { outcome: { kind: 'error', cls: err?.constructor?.name ?? typeof e, message: String(err?.message ?? e), typed: e instanceof TesseraError }, result };
  }
}

/** Whether two numbers agree to float32 kernel tolerance (NaN only with NaN, ±Inf exactly). */
export function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-4 + 1e-4 * Math.abs(b);
}

/**
 * Bad input everywhere (core ops): every public op of @tessera/core is called with each
 * argument in turn replaced by a bad value (see support/op-specs.ts and support/sweep.ts),
 * on every backend. Each case must give a typed error (a TesseraError subclass) or a result;
 * an invalid input (disposed tensor, non-tensor, out-of-range or fractional axis, negative or
 * fractional size, unknown name) must give a typed error; no case may leak a tensor or a
 * backend buffer; the outcome must be the same on every backend; and a computation after
 * the sweep must give the same numbers as before it.
 */
import { appendFileSync } from 'node:fs';
import * as core from '@tessera/core';
import { type Backend, conv2d, matmul, softmax, sum } from '@tessera/core';
import { afterAll, describe, expect, it } from 'vitest';
import { accounting, BACKENDS, type BackendName, openBackend, use } from './support/backends.js';
import { NOT_OPS, OP_SPECS } from './support/op-specs.js';
import { BuildContext, casesOf, close, type Outcome, runCase, tensorsIn } from './support/sweep.js';

const CASES = OP_SPECS.flatMap(casesOf);
const outcomes = new Map<BackendName, Map<string, Outcome>>();
const stats = { cases: 0, typedErrors: 0, results: 0, lowLevelUntyped: 0 };

/** A fixed computation whose numbers must not change because of what ran before. */
async function fingerprint(): Promise<number[]> {
  const a = core.tensor(Array.from({ length: 12 }, (_, i) => Math.sin(i)), [3, 4]);
  const b = core.tensor(Array.from({ length: 8 }, (_, i) => Math.cos(i)), [4, 2]);
  const img = core.tensor(Array.from({ length: 32 }, (_, i) => (i % 5) / 5), [1, 4, 4, 2]);
  const f = core.tensor(Array.from({ length: 36 }, (_, i) => (i % 7) / 7 - 0.5), [3, 3, 2, 2]);
  const m = matmul(a, b);
  const s = softmax(m, -1);
  const c = conv2d(img, f, { padding: 'same' });
  const t = sum(c);
  const out = [...(await s.data()), ...(await t.data())].map(Number);
  core.dispose([a, b, img, f, m, s, c, t]);
  return out;
}

it('the sweep covers every public function of @tessera/core', () => {
  const fns = Object.entries(core).filter(([k, v]) => typeof v === 'function' && !/^[A-Z]/.test(k)).map(([k]) => k);
  const covered = new Set([...OP_SPECS.map((s) => s.name), ...Object.keys(NOT_OPS)]);
  expect(fns.filter((f) => !covered.has(f))).toEqual([]);
});

describe.each(BACKENDS)('bad input to every core op on %s', (name) => {
  it(`${CASES.length} cases: typed errors or results, no leaks, later results unaffected`, async (ctx) => {
    const { backend, reason } = await openBackend(name);
    if (backend === null) return ctx.skip(reason!);
    const other: Backend = name === 'js' ? ((await openBackend('native')).backend ?? (await openBackend('wasm')).backend ?? (await core.setBackend(backend), backend)) : (await openBackend('js')).backend!;
    use(backend);
    const before = await fingerprint();
    const mine = new Map<string, Outcome>();
    const failures: string[] = [];
    for (const c of CASES) {
      if (process.env.RELIABILITY_TRACE) appendFileSync(process.env.RELIABILITY_TRACE, `${name} ${c.id}\n`);
      const start = [accounting(backend), accounting(other)];
      const bctx = new BuildContext(backend, other);
      const args = c.build(bctx);
      const { outcome, result } = await runCase(c, args);
      for (const t of tensorsIn(result)) if (!t.isDisposed) t.dispose();
      bctx.disposeAll();
      use(backend);
      mine.set(c.id, outcome);
      stats.cases++;
      if (outcome.kind === 'error') {
        if (outcome.typed) stats.typedErrors++;
        else if (c.lowLevel) stats.lowLevelUntyped++;
        else failures.push(`${c.id}: untyped ${outcome.cls}: ${outcome.message}`);
      } else {
        stats.results++;
        if (c.mustThrow) failures.push(`${c.id}: returned ${outcome.text} instead of a typed error`);
      }
      const end = [accounting(backend), accounting(other)];
      if (JSON.stringify(end) !== JSON.stringify(start)) failures.push(`${c.id}: leaked ${JSON.stringify(start)} -> ${JSON.stringify(end)}`);
    }
    outcomes.set(name, mine);
    expect(await fingerprint()).toEqual(before);
    expect(failures).toEqual([]);
  });
});

/** Tensor ids in messages (`tensor #12`) differ between runs; everything else must match. */
const norm = (m: string): string => m.replace(/#\d+/g, '#');
/**
 * Out-of-range indices are found by reading the indices synchronously (IndexError); a backend
 * without synchronous reads (WebGPU) cannot, and documents the result instead: gather gives 0,
 * scatterAdd drops the update, oneHot gives an all-off row (see @tessera/core's README).
 */
const INDEX_OPS = new Set(['gather', 'scatterAdd', 'oneHot']);
/** With NaN/±Inf inputs a 0·Inf can round either way: only which elements are finite must agree. */
const NON_FINITE = /arg\d (nan|inf|-inf)$/;

it('every case has the same outcome on every backend', async (ctx) => {
  const ref = outcomes.get('js');
  if (ref === undefined) return ctx.skip('the js sweep did not run');
  const diffs: string[] = [];
  for (const [name, mine] of outcomes) {
    if (name === 'js') continue;
    for (const c of CASES) {
      const a = ref.get(c.id)!;
      const b = mine.get(c.id)!;
      const asyncReads = !(await openBackend(name)).backend!.caps.syncRead;
      if (asyncReads && INDEX_OPS.has(c.op) && a.kind === 'error' && a.cls === 'IndexError' && b.kind === 'value') continue;
      if (a.kind !== b.kind) diffs.push(`${c.id}: js ${a.kind === 'error' ? `${a.cls}: ${a.message}` : a.text} vs ${name} ${b.kind === 'error' ? `${b.cls}: ${b.message}` : b.text}`);
      else if (a.kind === 'error' && b.kind === 'error') {
        if (a.cls !== b.cls || (!c.classOnly && norm(a.message) !== norm(b.message))) diffs.push(`${c.id}: js ${a.cls}: ${a.message} vs ${name} ${b.cls}: ${b.message}`);
      } else if (a.kind === 'value' && b.kind === 'value') {
        if (a.text !== b.text) diffs.push(`${c.id}: js ${a.text} vs ${name} ${b.text}`);
        else if (!a.values.every((va, i) => va.length === b.values[i]!.length && va.every((x, k) => (NON_FINITE.test(c.id) && !Number.isFinite(x) ? !Number.isFinite(b.values[i]![k]!) : close(b.values[i]![k]!, x))))) {
          diffs.push(`${c.id}: values differ: js ${JSON.stringify(a.values).slice(0, 200)} vs ${name} ${JSON.stringify(b.values).slice(0, 200)}`);
        }
      }
    }
  }
  expect(diffs).toEqual([]);
});

afterAll(() => {
  console.log(`[reliability] core op sweep: ${stats.cases} cases run (${CASES.length} per backend × ${outcomes.size} backends): ${stats.typedErrors} typed errors, ${stats.results} results, ${stats.lowLevelUntyped} untyped errors from kernel-level helpers (allowed)`);
});

/**
 * Runs one case in one mode (fused kernels on or off) and checks everything around it:
 * input readback, the op's result against the float64 reference (or the spec's property
 * check), input immutability, bitwise determinism over a second run, the error class of
 * error cases, and leaks (live tensors, buffers and bytes back to where they were).
 * @module
 */
import type { Backend, DataArray, DType } from '@tessera/core';
import type { CoreApi, Tensor } from './api.js';
import type { BuiltCase } from './cases.js';
import { bitwiseEqual, compareToRef } from './compare.js';
import type { HostTensor } from './host.js';
import { F32 } from './tolerance.js';
import type { CaseInfo, Tol } from './types.js';
import { makeInput, toTyped } from './views.js';

/** Fused kernels on (`fused`) or off (`unfused`: core's reference decompositions). */
export type Mode = 'fused' | 'unfused';

/** What one run of the op produced. */
interface Output {
  shape: readonly number[];
  dtype: DType;
  data: DataArray;
}

/** Live figures the leak check compares. */
interface Snapshot {
  numTensors: number;
  liveBuffers: number;
  liveBytes: number;
}

function snapshot(api: CoreApi, backend: Backend): Snapshot {
  const s = backend.storage.stats();
  return { numTensors: api.memory().numTensors, liveBuffers: s.liveBuffers, liveBytes: s.liveBytes };
}

/**
 * The tolerance a case's float outputs are held to: the case's own, else the spec's for
 * its dtype, else {@link F32}.
 * @example
 * tolOf(listCases({ filter: /^exp\/float32\/mat/ })[0]); // { rtol: 1e-4, atol: 1e-6 }
 */
export function tolOf(c: CaseInfo): Tol {
  if (c.def.tol) return c.def.tol;
  if (c.spec.tol && c.dtype !== 'error') return c.spec.tol(c.dtype, c.def);
  return F32;
}

/**
 * Runs case `c` in `mode`; resolves when every check passes, rejects with a message naming
 * the first failed check otherwise.
 * @example
 * await runCase(api, backend, c, buildCase(c), 'unfused');
 */
export async function runCase(api: CoreApi, backend: Backend, c: CaseInfo, built: BuiltCase, mode: Mode): Promise<void> {
  const before = snapshot(api, backend);
  const first = await runOnce(api, c, built, mode, true);
  if (first !== null) {
    const second = await runOnce(api, c, built, mode, false);
    checkResult(c, built, first);
    second!.forEach((o, i) => {
      if (!bitwiseEqual(o.data, first[i].data)) throw new Error(`not deterministic: output ${i} differs bitwise between two runs`);
    });
  }
  await backend.flush();
  const after = snapshot(api, backend);
  for (const k of ['numTensors', 'liveBuffers', 'liveBytes'] as const) {
    if (after[k] !== before[k]) {
      throw new Error(`leak: ${k} was ${before[k]} before the case and ${after[k]} after disposing everything it made`);
    }
  }
}

/** One run: make inputs, call the op, read everything, dispose everything. Null for error cases. */
async function runOnce(api: CoreApi, c: CaseInfo, built: BuiltCase, mode: Mode, full: boolean): Promise<Output[] | null> {
  const made: Tensor[] = [];
  try {
    const inputs = built.inputs.map((b) => makeInput(api, b, made));
    const pre = full ? await readInputs(built, inputs) : null;
    const attrs = c.def.attrs ?? {};
    if (c.def.error) {
      expectThrow(api, c, () => api.withFusedKernels(mode === 'fused', () => c.spec.run(api, inputs, attrs)), made);
      return null;
    }
    const res = api.withFusedKernels(mode === 'fused', () => c.spec.run(api, inputs, attrs));
    const outs = Array.isArray(res) ? res : [res];
    for (const o of outs) if (!made.includes(o)) made.push(o);
    const data = await Promise.all(outs.map((o) => o.data()));
    if (pre) {
      const inPlace = c.spec.inPlace?.(c.def) ?? [];
      for (let i = 0; i < inputs.length; i++) {
        if (inPlace.includes(i) || built.inputs[i].disposed) continue;
        const now = await inputs[i].data();
        if (!bitwiseEqual(now, pre[i]!)) throw new Error(`input ${i} changed: the op wrote into its input`);
      }
    }
    return outs.map((o, i) => ({ shape: o.shape, dtype: o.dtype, data: data[i] }));
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Reads every live input and checks it holds exactly the case's values (views included). */
async function readInputs(built: BuiltCase, inputs: Tensor[]): Promise<(DataArray | null)[]> {
  return Promise.all(
    inputs.map(async (t, i) => {
      if (built.inputs[i].disposed) return null;
      const d = await t.data();
      if (!bitwiseEqual(d, toTyped(built.inputs[i].logical))) {
        const how = built.inputs[i].view?.kind ?? 'contiguous';
        throw new Error(`input ${i} (${how}) reads back different values than were uploaded; core's view ops or the backend's copy/read are wrong`);
      }
      return d;
    }),
  );
}

function expectThrow(api: CoreApi, c: CaseInfo, fn: () => unknown, made: Tensor[]): void {
  const name = c.def.error!;
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    const cls = api[name] as unknown as abstract new (...a: never[]) => Error;
    if (typeof cls !== 'function') throw new Error(`core exports no error class ${name}`);
    if (!(e instanceof cls)) {
      const got = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new Error(`expected ${name}, got ${got}`);
    }
    return;
  }
  const outs = (Array.isArray(result) ? result : [result]).filter((o): o is Tensor => !!o && typeof o === 'object' && 'dispose' in o);
  made.push(...outs);
  throw new Error(`expected ${name}, but the op returned normally`);
}

/** Compares the outputs of a run with the reference or the spec's property check. */
function checkResult(c: CaseInfo, built: BuiltCase, outs: Output[]): void {
  const hostOuts: HostTensor[] = outs.map((o) => ({ dtype: o.dtype, shape: o.shape, data: Float64Array.from(o.data) }));
  if (built.expected) {
    if (built.expected.length !== outs.length) {
      throw new Error(`${outs.length} outputs, expected ${built.expected.length}`);
    }
    const tol = tolOf(c);
    outs.forEach((o, i) => {
      const msg = compareToRef(o, built.expected![i], tol, { signedZeros: c.def.signedZeros, anyDType: c.spec.anyOutputDType });
      if (msg) throw new Error(`output ${i}: ${msg}`);
    });
    return;
  }
  const msg = c.spec.check?.(hostOuts, c.def.attrs ?? {});
  if (msg) throw new Error(msg);
}

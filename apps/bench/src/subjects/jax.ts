/**
 * jax-js 0.1.25 peer on its `wasm` device. In Node it needs `init("wasm")`; arrays are
 * reference-counted with move semantics (passing an array consumes it, `.ref` keeps it). Its
 * worker pool needs a global `Worker`, which Node 20 lacks, so it runs on one thread here.
 * Matmul and the elementwise workloads are `jit`-compiled (fused), as a jax-js user would
 * write them; the per-op overhead rows are eager on purpose.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { timeReps } from '../measure.js';
import { errorMessage } from '../stats.js';
import type { SubjectInfo } from '../types.js';
import { uniformData, type KernelSubject } from './kernel-subject.js';

type Jax = typeof import('@jax-js/jax');
type JArray = import('@jax-js/jax').Array;

const require = createRequire(import.meta.url);

export function jaxVersion(): string {
  try {
    // The package's exports map hides package.json; find it next to the resolved entry.
    let dir = path.dirname(require.resolve('@jax-js/jax'));
    while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Loads jax-js and initialises its wasm device. */
export async function loadJax(): Promise<Jax> {
  const jax = await import('@jax-js/jax');
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax.init("wasm") returned [${devices.join(', ')}]`);
  jax.defaultDevice('wasm');
  return jax;
}

export function jaxThreadsNote(): string {
  return typeof (globalThis as { Worker?: unknown }).Worker === 'undefined' ? '1 thread (no global Worker in this Node)' : 'worker pool';
}

export async function jaxKernelSubject(): Promise<KernelSubject> {
  const id = 'jax-wasm';
  const label = 'jax-js wasm';
  let jax: Jax;
  try {
    jax = await loadJax();
  } catch (e) {
    return { info: { id, label, kind: 'peer', family: 'node', status: 'unavailable', detail: `failed to initialise: ${errorMessage(e)}` } };
  }
  const info: SubjectInfo = { id, label, kind: 'peer', family: 'node', status: 'ok', detail: `@jax-js/jax ${jaxVersion()}, ${jaxThreadsNote()}` };
  const np = jax.numpy;
  const arr = (data: Float32Array, shape: number[]) => np.array(data).reshape(shape);
  const release = (xs: JArray[]) => {
    for (const x of xs) if (x.refCount > 0) x.dispose();
  };
  /**
   * Issues `reps` calls, then waits for all of them (jax-js dispatches lazily and in order,
   * so waiting on each call would measure the round trip, not the kernel).
   */
  const queued = async (reps: number, call: () => JArray): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const outs: JArray[] = [];
    for (let i = 0; i < reps; i++) outs.push(call());
    await jax.blockUntilReady(outs);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    release(outs);
    return sec;
  };
  return {
    info,
    async matmul(n) {
      const a = arr(uniformData(n * n, 1), [n, n]);
      const b = arr(uniformData(n * n, 2), [n, n]);
      // Under jit, as jax-js code is written; eager np.matmul costs ~0.2 ms more per call here.
      const mm = jax.jit((x: JArray, y: JArray) => np.matmul(x, y));
      return {
        run: (reps) => queued(reps, () => mm(a.ref, b.ref) as JArray),
        dispose: () => {
          release([a, b]);
          mm.dispose();
        },
      };
    },
    async elementwise(kind, n) {
      const a = arr(uniformData(n, 3), [n]);
      const b = arr(uniformData(n, 4), [n]);
      const f =
        kind === 'add'
          ? jax.jit((x: JArray, y: JArray) => np.add(x, y))
          : jax.jit((x: JArray, y: JArray) => np.multiply(jax.nn.relu(np.subtract(np.multiply(np.add(x.ref, y.ref), x), y)), 0.5));
      return {
        run: (reps) => queued(reps, () => f(a.ref, b.ref) as JArray),
        dispose: () => {
          release([a, b]);
          f.dispose();
        },
      };
    },
    async overhead(autograd, count) {
      const one = arr(new Float32Array([1e-3]), [1]);
      const chain = (x0: JArray) => {
        let y = x0;
        for (let i = 0; i < count; i++) y = np.add(y, one.ref);
        return y;
      };
      if (!autograd) {
        return {
          run: (reps) =>
            timeReps(reps, async () => {
              await chain(arr(new Float32Array([1]), [1])).data();
            }),
          dispose: () => release([one]),
        };
      }
      const g = jax.grad((x0: JArray) => chain(x0).sum());
      return {
        run: (reps) =>
          timeReps(reps, async () => {
            await (g(arr(new Float32Array([1]), [1])) as JArray).data();
          }),
        dispose: () => release([one]),
      };
    },
  };
}

/**
 * Checks that are about the backend's lifecycle rather than one op: `flush`, ordering of
 * dependent kernels, synchronous reads agreeing with asynchronous ones, and seeded random
 * numbers agreeing bit for bit across two instances of the backend.
 * @module
 */
import type { Backend } from '@tessera/core';
import type { CoreApi, Tensor } from './api.js';
import { bitwiseEqual } from './compare.js';

/** A lifecycle check: throws on failure. */
export type LifecycleCheck = (api: CoreApi, backend: Backend, createBackend: () => Promise<Backend>) => Promise<void>;

/** Makes `n` float32 values 0..1 deterministically. */
function ramp(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 101);
}

/** The lifecycle checks, by name. */
export const lifecycleChecks: Record<string, LifecycleCheck> = {
  /** `flush()` resolves, also with nothing pending and twice in a row. */
  async flush(_api, backend) {
    await backend.flush();
    await Promise.all([backend.flush(), backend.flush()]);
  },

  /** A dependent chain read once at the end equals the same chain read after every step. */
  async ordering(api) {
    const run = async (readEachStep: boolean): Promise<Float32Array> => {
      const made: Tensor[] = [];
      try {
        let x = api.tensor(ramp(1000), [10, 100], 'float32');
        made.push(x);
        for (let i = 0; i < 20; i++) {
          let y: Tensor;
          if (i % 3 === 0) y = api.add(x, 0.5);
          else if (i % 3 === 1) y = api.mul(x, 0.75);
          else {
            const t = api.tanh(x);
            made.push(t);
            y = api.transpose(t);
          }
          made.push(y);
          if (readEachStep) await y.data();
          x = y;
        }
        return (await x.data()) as Float32Array;
      } finally {
        for (const t of made) t.dispose();
      }
    };
    const once = await run(false);
    const each = await run(true);
    if (!bitwiseEqual(once, each)) throw new Error('a chain read once differs from the same chain read after every step');
  },

  /** Where the backend reads synchronously, `dataSync()` equals `await data()`. */
  async 'sync-read'(api, backend) {
    if (!backend.caps.syncRead) return;
    const x = api.tensor(ramp(777), [777], 'float32');
    const y = api.exp(x);
    try {
      const a = y.dataSync();
      const b = await y.data();
      if (!bitwiseEqual(a, b)) throw new Error('dataSync() and data() disagree');
    } finally {
      x.dispose();
      y.dispose();
    }
  },

  /** Seeded draws are bit-identical on a second, independent instance of the backend. */
  async 'rng-second-instance'(api, backend, createBackend) {
    const draw = async (): Promise<[Int32Array, Float32Array, Float32Array]> => {
      const bits = api.randomBits([1001], 77);
      const u = api.randomUniform([513], { seed: 78, min: -1, max: 3 });
      const z = api.randomNormal([257], { seed: 79 });
      try {
        return [(await bits.data()) as Int32Array, (await u.data()) as Float32Array, (await z.data()) as Float32Array];
      } finally {
        for (const t of [bits, u, z]) t.dispose();
      }
    };
    const here = await draw();
    const other = await createBackend();
    try {
      api.setBackend(other);
      const there = await draw();
      for (let i = 0; i < 3; i++) {
        if (!bitwiseEqual(here[i], there[i])) throw new Error(`${['randomBits', 'randomUniform', 'randomNormal'][i]} differs between two instances`);
      }
    } finally {
      api.setBackend(backend);
      other.dispose();
    }
  },
};

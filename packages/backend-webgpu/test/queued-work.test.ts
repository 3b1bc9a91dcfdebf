/**
 * Regression: long runs of queued work without a read. On Dawn + Mesa lavapipe every live
 * bind group is a Vulkan descriptor set and lavapipe mmaps each one; the process has 65 530
 * maps (vm.max_map_count). Before the fix, the bind-group cache was cleared whenever the pool
 * destroyed a block and the pool handed blocks out last-in-first-out, so recurring steps
 * created a bind group per dispatch; with the GPU behind the CPU they stayed alive until
 * lavapipe's mmap failed and the process died with SIGSEGV (the first test did, at about
 * 60 000 dispatches). Now recurring work hits the cache and the count stays flat.
 */
import * as core from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { view } from './helpers.js';

let be: WebGpuBackend;
beforeAll(async () => {
  be = await createWebGpuBackend();
});
afterAll(() => be?.dispose());

describe('queued work without reads', () => {
  it('700 steps (70 700 dispatches) that each free 100 same-sized temporaries run, then read the right value', async () => {
    const before = be.storage.stats();
    const g0 = be.counters().bindGroups;
    const steps = 700, per = 100, n = 1024;
    const v = (b: core.Buf) => view(b, 'float32', [n]);
    let x = be.storage.upload('float32', new Float32Array(n).fill(0));
    const inc = be.storage.upload('float32', new Float32Array(n).fill(1));
    for (let s = 0; s < steps; s++) {
      const temps: core.Buf[] = [];
      let cur = x;
      for (let i = 0; i < per; i++) {
        const o = be.storage.alloc('float32', n);
        be.kernels.binary('add', v(cur), v(inc), v(o));
        temps.push(o);
        cur = o;
      }
      const next = be.storage.alloc('float32', n);
      be.kernels.binary('sub', v(cur), v(inc), v(next));
      for (const t of temps) be.storage.release(t);
      be.storage.release(x);
      x = next;
      // Like a training loop: the step ends, only microtasks run before the next one.
      await Promise.resolve();
    }
    const got = await be.storage.read(x, 'float32', 0, n);
    expect(got.every((e) => e === steps * (per - 1))).toBe(true);
    // One step's worth of bind groups (about 200), not one per dispatch.
    expect(be.counters().bindGroups - g0).toBeLessThan(2 * per + 50);
    be.storage.release(x);
    be.storage.release(inc);
    expect(be.storage.stats().liveBuffers).toBe(before.liveBuffers);
    expect(be.storage.stats().liveBytes).toBe(before.liveBytes);
    be.trim();
    expect(be.storage.stats().pooledBytes).toBe(0);
  }, 60_000);

  it('recurring steps of varying shapes (tensor ops, no reads) stop creating bind groups after the first round', async () => {
    const previous = (() => {
      try {
        return core.getBackend();
      } catch {
        return null;
      }
    })();
    core.setBackend(be);
    try {
      const tensors = core.memory().numTensors;
      const before = be.storage.stats();
      const D = 16, lr = 0.01;
      const widths = [3, 7, 5, 11, 2, 9];
      const w0 = Array.from({ length: D * D }, (_, i) => ((i * 7) % 13) / 13 - 0.5);
      let w = core.tensor(w0, [D, D]);
      const ref = w0.slice();
      const counts: number[] = [];
      const rounds = 40;
      for (let s = 0; s < rounds * widths.length; s++) {
        const rows = widths[s % widths.length];
        const c = ((s % 4) + 1) / 8;
        // A least-squares-like step: y = x W, W -= lr * x^T y / rows, with x = c everywhere.
        const next = core.tidy(() => {
          const x = core.mul(core.ones([rows, D]), c);
          const y = core.relu(core.matmul(x, w));
          const g = core.div(core.matmul(core.transpose(x), y), rows);
          return core.sub(w, core.mul(g, lr));
        });
        w.dispose();
        w = next;
        // Host reference in float64: every row of x is c, so x^T y / rows = c * 1 (colsum of relu(c 1^T W)) / rows * rows.
        const col = new Array<number>(D).fill(0);
        for (let j = 0; j < D; j++) {
          let acc = 0;
          for (let k = 0; k < D; k++) acc += c * ref[k * D + j];
          col[j] = Math.max(0, acc);
        }
        for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) ref[i * D + j] -= lr * c * col[j];
        if ((s + 1) % widths.length === 0) counts.push(be.counters().bindGroups);
        await Promise.resolve();
      }
      const got = await w.data();
      for (let i = 0; i < D * D; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-4);
      // After the first rounds every round reuses its bind groups.
      expect(counts[counts.length - 1] - counts[4]).toBe(0);
      w.dispose();
      expect(core.memory().numTensors).toBe(tensors);
      expect(be.storage.stats().liveBuffers).toBe(before.liveBuffers);
      expect(be.storage.stats().liveBytes).toBe(before.liveBytes);
    } finally {
      if (previous) core.setBackend(previous);
    }
  }, 60_000);
});

/**
 * The wasm backend's own machinery: the size-class allocator, storage figures, memory
 * growth, the one-thread fallback and its message, and clean disposal.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@tessera/core';
import { classOf, createWasmBackend, WasmStorage } from '../src/index.js';
import { Heap } from '../src/heap.js';
import { AS_NAMES } from '../src/codes.js';
import { kernelModule } from '../src/module.js';

describe('size classes', () => {
  it('rounds up by at most 25%, 64-byte aligned', () => {
    expect(classOf(1)).toBe(64);
    expect(classOf(64)).toBe(64);
    expect(classOf(65)).toBe(128);
    expect(classOf(1000)).toBe(1024);
    expect(classOf(1025)).toBe(1280);
    for (let b = 1; b < 5_000_000; b = Math.ceil(b * 1.37) + 3) {
      const c = classOf(b);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c % 64).toBe(0);
      if (b > 256) expect(c).toBeLessThanOrEqual(b * 1.25 + 64);
    }
  });
});

describe('op codes', () => {
  it('agree between the JS tables and the constants the wasm module exports', async () => {
    const module = await kernelModule('single');
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 64 });
    const { exports } = await WebAssembly.instantiate(module, { env: { memory, abort: () => undefined } });
    for (const [family, [table, names]] of Object.entries(AS_NAMES)) {
      for (const [op, code] of Object.entries(table)) {
        const g = (exports as Record<string, WebAssembly.Global>)[names[op]!];
        expect(g, `${family} ${op}`).toBeDefined();
        expect(g!.value, `${family} ${op}`).toBe(code);
      }
    }
  });
});

describe('heap', () => {
  it('reuses freed blocks of a class and grows the memory on demand', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
    const h = new Heap(memory, 1024, 64);
    const a = h.alloc(1000);
    const b = h.alloc(1000);
    expect(a % 64).toBe(0);
    expect(b).toBeGreaterThan(a);
    h.free(a, 1000);
    expect(h.pooledBytes).toBe(1024);
    expect(h.alloc(900)).toBe(a); // same class, reused
    expect(h.pooledBytes).toBe(0);
    const big = h.alloc(1 << 20); // past the first page: grows
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(big + (1 << 20));
    h.u8[big + (1 << 20) - 1] = 7; // views were refreshed
    expect(h.u8[big + (1 << 20) - 1]).toBe(7);
    expect(() => h.alloc(64 << 20)).toThrow(/out of memory/);
  });

  it('lowers the top instead of pooling the highest block', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const h = new Heap(memory, 0, 4);
    h.alloc(100);
    const b = h.alloc(5000);
    h.free(b, 5000);
    expect(h.pooledBytes).toBe(0);
    expect(h.alloc(6000)).toBe(b);
  });
});

describe('wasm backend runtime', () => {
  it('keeps tensors resident, grows memory for big tensors, and reports exact figures', async () => {
    const be = await createWasmBackend({ threads: 1, initialMemoryMiB: 8 });
    core.setBackend(be);
    const s0 = be.storage.stats();
    expect(s0.liveBuffers).toBe(0);
    const n = 12_000_000; // 48 MB: past the initial memory
    const x = core.fill([n], 1.5);
    const y = core.mul(x, 2);
    const s1 = be.storage.stats();
    expect(s1.liveBuffers).toBe(2);
    expect(s1.liveBytes).toBe(8 * n);
    const d = (await y.data()) as Float32Array;
    expect(d.length).toBe(n);
    expect(d[0]).toBe(3);
    expect(d[n - 1]).toBe(3);
    const sum = core.sum(y);
    expect((await sum.data())[0]).toBe(3 * n);
    x.dispose(); y.dispose(); sum.dispose();
    const s2 = be.storage.stats();
    expect(s2.liveBuffers).toBe(0);
    expect(s2.liveBytes).toBe(0);
    // freed blocks are reused: allocating the same size again does not grow the memory
    const heap = (be.storage as WasmStorage).heap;
    const size = heap.size;
    const z = core.fill([n], 2);
    z.dispose();
    expect(heap.size).toBe(size);
    expect(be.storage.stats().pooledBytes).toBeLessThanOrEqual(s2.pooledBytes);
    be.dispose();
    expect(() => be.storage.alloc('float32', 4)).toThrow(/disposed/);
  });

  it('reads copy out: later writes do not change a read result', async () => {
    const be = await createWasmBackend({ threads: 1 });
    const b = be.storage.upload('float32', Float32Array.of(1, 2, 3, 4));
    const r = be.storage.readSync!(b, 'float32', 1, 2);
    be.kernels.fill({ buf: b, dtype: 'float32', shape: [4], strides: [1], offset: 0, size: 4 }, 9);
    expect([...r]).toEqual([2, 3]);
    expect([...(await be.storage.read(b, 'float32', 0, 4))]).toEqual([9, 9, 9, 9]);
    be.storage.release(b);
    expect(() => be.storage.readSync!(b, 'float32', 0, 1)).toThrow(/freed/);
    expect(() => be.storage.release(b)).toThrow(/double free/);
    be.dispose();
  });

  it('falls back to one thread, and says why, when shared memory is unavailable', async () => {
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const saved = g.SharedArrayBuffer;
    const reasons: string[] = [];
    delete g.SharedArrayBuffer;
    try {
      const be = await createWasmBackend({ threads: 4, onFallback: (r) => reasons.push(r) });
      expect(be.threads).toBe(1);
      expect(be.threadsNote).toMatch(/SharedArrayBuffer/);
      expect(reasons).toEqual([be.threadsNote]);
      core.setBackend(be);
      const y = core.add(core.tensor([1, 2]), 1);
      expect([...(await y.data())]).toEqual([2, 3]);
      be.dispose();
    } finally {
      g.SharedArrayBuffer = saved;
    }
  });

  it('runs a pool, and disposes it', async () => {
    const be = await createWasmBackend({ threads: 3 });
    expect(be.threads).toBe(3);
    expect(be.threadsNote).toBeNull();
    core.setBackend(be);
    const a = core.tensor(Float32Array.from({ length: 300 * 300 }, (_, i) => (i % 13) - 6), [300, 300]);
    const c = core.matmul(a, a);
    const d = (await c.data()) as Float32Array;
    let ref = 0;
    for (let k = 0; k < 300; k++) ref += (((0 * 300 + k) % 13) - 6) * (((k * 300 + 5) % 13) - 6);
    expect(d[5]).toBe(ref);
    a.dispose(); c.dispose();
    be.dispose();
    be.dispose(); // idempotent
  });
});

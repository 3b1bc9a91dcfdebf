/**
 * Long kernels off the JS thread: matmul/conv kernels above `asyncThreshold` (and every
 * kernel depending on them) run on the backend's Rust worker in call order. These tests
 * prove that the event loop keeps running while they do, that results and ordering match
 * the JS-thread path bit for bit, that freeing a buffer a queued kernel uses is safe, that
 * failures off the thread reach the promise (and every later reader) as typed errors, and
 * that nothing leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add, BackendError, conv2d, conv2dBackpropFilter, conv2dBackpropInput, matmul, memory, mul, optimizerStep, relu,
  setBackend, softmax, sum, tensor, TesseraError, type Buf, type Tensor, type View, type WindowParams,
} from '@tessera/core';
import { createNativeBackend, DEFAULT_ASYNC_THRESHOLD, NativeBackendError, type NativeBackend } from '../src/index.js';

let queued: NativeBackend; // every matmul/conv on the worker
let inline: NativeBackend; // nothing off the JS thread
let dflt: NativeBackend; // the default threshold

beforeAll(async () => {
  queued = await createNativeBackend({ threads: 2, asyncThreshold: 0 });
  inline = await createNativeBackend({ threads: 2, asyncThreshold: Infinity });
  dflt = await createNativeBackend({ threads: 2 });
});
afterAll(() => {
  for (const b of [queued, inline, dflt]) b.dispose();
});

let seed = 7;
function floats(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    a[i] = seed / 2147483648 - 1;
  }
  return a;
}

function view(buf: Buf, shape: number[]): View {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return { buf, dtype: 'float32', shape, strides, offset: 0, size: shape.reduce((a, b) => a * b, 1) };
}

/** Live tensors (core) and live buffers/bytes (the backend). */
function counts(be: NativeBackend): [number, number, number] {
  const s = be.storage.stats();
  return [memory().numTensors, s.liveBuffers, s.liveBytes];
}

/** Whether two float arrays hold the same bits (NaN-safe). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Ticks of the event loop (setImmediate) until `p` settles, and how many saw queued work. */
async function ticksWhile<T>(be: NativeBackend, p: Promise<T>): Promise<{ value: T; ticks: number; busyTicks: number }> {
  let ticks = 0;
  let busyTicks = 0;
  let done = false;
  const loop = (): void => {
    if (done) return;
    ticks++;
    if (be.pending > 0) busyTicks++;
    setImmediate(loop);
  };
  setImmediate(loop);
  const value = await p;
  done = true;
  return { value, ticks, busyTicks };
}

describe('long kernels off the JS thread', () => {
  it('a large matmul returns at once; the event loop runs until await data() resolves', async () => {
    setBackend(dflt);
    const start = counts(dflt);
    const m = 1536;
    const k = 1024;
    const n = 1024;
    expect(m * n * k).toBeGreaterThan(DEFAULT_ASYNC_THRESHOLD);
    const xs = floats(m * k);
    const ws = floats(k * n);
    const x = tensor(xs, [m, k]);
    const w = tensor(ws, [k, n]);
    const y = matmul(x, w);
    expect(dflt.pending).toBeGreaterThan(0); // queued, not done
    const { value, busyTicks } = await ticksWhile(dflt, y.data());
    // the event loop ran (and saw the matmul still in flight) before the data arrived
    expect(busyTicks).toBeGreaterThan(0);
    expect(dflt.pending).toBe(0);
    setBackend(inline);
    const x2 = tensor(xs, [m, k]);
    const w2 = tensor(ws, [k, n]);
    const y2 = matmul(x2, w2);
    expect(inline.pending).toBe(0);
    expect(sameBits(value as Float32Array, y2.dataSync())).toBe(true);
    for (const t of [x, w, y, x2, w2, y2]) t.dispose();
    expect(counts(dflt)).toEqual(start);
  });

  it('a large convolution and both its gradients run off the thread with the same values', async () => {
    const p: WindowParams = { window: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] };
    const xs = floats(16 * 32 * 32 * 32);
    const fs = floats(3 * 3 * 32 * 64);
    const run = async (be: NativeBackend): Promise<Float32Array[]> => {
      setBackend(be);
      const x = tensor(xs, [16, 32, 32, 32]);
      const f = tensor(fs, [3, 3, 32, 64]);
      const y = conv2d(x, f, { padding: 'same' });
      const dx = conv2dBackpropInput(y, f, x.shape, p);
      const df = conv2dBackpropFilter(x, y, f.shape, p);
      if (be === queued) expect(be.pending).toBeGreaterThan(0);
      const out = (await Promise.all([y.data(), dx.data(), df.data()])) as Float32Array[];
      for (const t of [x, f, y, dx, df]) t.dispose();
      return out;
    };
    const before = counts(queued);
    const a = await run(queued);
    const b = await run(inline);
    for (let i = 0; i < 3; i++) expect(sameBits(a[i]!, b[i]!)).toBe(true);
    expect(counts(queued)).toEqual(before);
  });

  it('a chain of dependent queued and JS-thread kernels keeps call order (same bits as the synchronous path)', async () => {
    const xs = floats(256 * 384);
    const ws = floats(384 * 256);
    const bs = floats(256);
    const ps = floats(256 * 256);
    const gs = floats(256 * 256);
    const program = (be: NativeBackend): { outs: Tensor[]; sawQueued: boolean } => {
      setBackend(be);
      if (be === queued) be.injectFault('hold'); // the worker waits: everything below queues up
      const x = tensor(xs, [256, 384]);
      const w = tensor(ws, [384, 256]);
      const b = tensor(bs, [256]);
      const param = tensor(ps, [256, 256]);
      const v = tensor(new Float32Array(256 * 256), [256, 256]);
      const xw = matmul(x, w); // queued
      const xwb = add(xw, b); // depends on it: queued behind it
      const h = relu(xwb);
      const sawQueued = be.pending > 0;
      const g0 = tensor(gs, [256, 256]);
      const g = mul(g0, 0.5); // independent: runs on the JS thread meanwhile
      const h2 = matmul(h, param); // reads h (queued) and param
      // in-place update of a buffer a queued kernel still reads: must wait for that read
      optimizerStep('momentum', [param], [g], [[v]], { lr: 0.1, step: 1, momentum: 0.9 });
      const h3 = matmul(h2, param); // must see the updated param
      const s = softmax(h3);
      const total = sum(s, 1);
      for (const t of [x, w, b, g0, g, xw, xwb]) t.dispose(); // released while queued kernels use them
      if (be === queued) {
        expect(be.pending).toBeGreaterThanOrEqual(8);
        be.injectFault('release');
      }
      return { outs: [h, h2, h3, s, total, param, v], sawQueued };
    };
    const before = counts(queued);
    const a = program(queued);
    expect(a.sawQueued).toBe(true);
    const b = program(inline);
    expect(b.sawQueued).toBe(false);
    for (let i = 0; i < a.outs.length; i++) {
      const [va, vb] = [await a.outs[i]!.data(), a.outs[i]!.dataSync()];
      expect(sameBits(va, vb)).toBe(true);
      expect(sameBits(va, b.outs[i]!.dataSync())).toBe(true);
    }
    for (const t of [...a.outs, ...b.outs]) t.dispose();
    expect(queued.pending).toBe(0);
    expect(counts(queued)).toEqual(before);
  });

  it('inputs freed while their kernel is queued are not reused before it has run', async () => {
    setBackend(queued);
    const before = counts(queued);
    const n = 768;
    const xs = floats(n * n);
    const ws = floats(n * n);
    const x = tensor(xs, [n, n]);
    const w = tensor(ws, [n, n]);
    const y = matmul(x, w);
    x.dispose();
    w.dispose();
    // Same-sized allocations would reuse x's and w's memory if it went back to the pool now.
    const s = queued.storage;
    const junk = Array.from({ length: 4 }, () => s.alloc('float32', n * n));
    for (const j of junk) queued.kernels.fill(view(j, [n * n]), NaN);
    const got = await y.data();
    for (const j of junk) s.release(j);
    setBackend(inline);
    const x2 = tensor(xs, [n, n]);
    const w2 = tensor(ws, [n, n]);
    const want = matmul(x2, w2);
    expect(sameBits(got, want.dataSync())).toBe(true);
    for (const t of [y, x2, w2, want]) t.dispose();
    expect(counts(queued)).toEqual(before);
  });

  it('disposing a pending result retires the handle at once and frees the memory after the kernel', async () => {
    setBackend(queued);
    queued.storage.trim();
    const before = queued.storage.stats();
    expect(before.pooledBytes).toBe(0);
    queued.injectFault('hold');
    const x = tensor(floats(1024 * 1024), [1024, 1024]);
    const y = matmul(x, x);
    y.dispose();
    x.dispose();
    const now = queued.storage.stats();
    expect(queued.pending).toBe(2);
    queued.injectFault('release');
    // the handles are gone; the bytes of x and y wait (reported as pooled) for the worker
    expect([now.liveBuffers, now.liveBytes]).toEqual([before.liveBuffers, before.liveBytes]);
    expect(now.pooledBytes).toBe(2 * 4 * 1024 * 1024);
    await queued.flush();
    expect(queued.pending).toBe(0);
    const after = queued.storage.stats();
    expect([after.liveBuffers, after.liveBytes]).toEqual([before.liveBuffers, before.liveBytes]);
    queued.storage.trim();
    expect(queued.storage.stats().pooledBytes).toBe(0);
  });

  it('readSync and dataSync wait for queued work; flush resolves when everything has run', async () => {
    setBackend(queued);
    const before = counts(queued);
    const xs = floats(512 * 512);
    const x = tensor(xs, [512, 512]);
    const y = matmul(x, x);
    const sync = y.dataSync(); // waits for the queued matmul
    expect(queued.pending).toBe(0);
    queued.injectFault('hold');
    const z = matmul(y, x);
    const flushed = queued.flush();
    expect(queued.pending).toBe(2);
    let settled = false;
    void flushed.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // still held
    queued.injectFault('release');
    await flushed;
    expect(queued.pending).toBe(0);
    setBackend(inline);
    const x2 = tensor(xs, [512, 512]);
    const y2 = matmul(x2, x2);
    const z2 = matmul(y2, x2);
    expect(sameBits(sync, y2.dataSync())).toBe(true);
    expect(sameBits(z.dataSync(), z2.dataSync())).toBe(true);
    for (const t of [x, y, z, x2, y2, z2]) t.dispose();
    expect(counts(queued)).toEqual(before);
  });

  it('disposing the backend while work is queued rejects pending reads with a typed error', async () => {
    const be = await createNativeBackend({ threads: 2, asyncThreshold: 0 });
    const a = be.storage.upload('float32', floats(1024 * 1024));
    const o = be.storage.alloc('float32', 1024 * 1024);
    be.kernels.matmul(view(a, [1024, 1024]), view(a, [1024, 1024]), view(o, [1024, 1024]));
    const read = be.storage.read(o, 'float32', 0, 4);
    const flushed = be.flush();
    be.dispose(); // waits for the running matmul; drops the queued read
    const e = await read.then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(NativeBackendError);
    expect((e as NativeBackendError).code).toBe('ERR_TESSERA_NATIVE_HANDLE');
    expect((e as Error).message).toMatch(/disposed/);
    await expect(flushed).rejects.toBeInstanceOf(NativeBackendError);
    expect(be.storage.stats()).toEqual({ liveBuffers: 0, liveBytes: 0, pooledBytes: 0 });
    expect(be.pending).toBe(0);
    await expect(be.storage.read(o, 'float32', 0, 1)).rejects.toBeInstanceOf(NativeBackendError);
  });

  it('rejects bad thresholds', async () => {
    await expect(createNativeBackend({ asyncThreshold: -1 })).rejects.toThrow(/asyncThreshold/);
    await expect(createNativeBackend({ asyncThreshold: NaN })).rejects.toThrow(/asyncThreshold/);
    expect(() => dflt.setAsyncThreshold(-5)).toThrow(NativeBackendError);
    expect(dflt.asyncThreshold).toBe(DEFAULT_ASYNC_THRESHOLD);
  });
});

describe('failures off the JS thread', () => {
  function expectTyped(e: unknown, code: string, message: RegExp): void {
    expect(e).toBeInstanceOf(NativeBackendError);
    expect(e).toBeInstanceOf(BackendError);
    expect(e).toBeInstanceOf(TesseraError);
    expect((e as NativeBackendError).code).toBe(code);
    expect((e as Error).message).toMatch(message);
  }

  for (const [kind, code, msg] of [
    ['workerPanic', 'ERR_TESSERA_NATIVE_PANIC', /Rust panic.*injected fault on the worker/],
    ['workerError', 'ERR_TESSERA_NATIVE', /injected failure on the worker/],
  ] as const) {
    it(`a ${kind} rejects the read's promise, and every later reader of the data, with a typed error`, async () => {
      const be = queued;
      const s = be.storage;
      const before = s.stats();
      const f = s.alloc('float32', 8);
      const g = s.alloc('float32', 8);
      const h = s.alloc('float32', 8);
      const ok = s.upload('float32', Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8));
      be.injectFault('hold'); // so the failing kernel is still queued when the next calls come
      be.injectFault(kind, view(f, [8]));
      // queued behind the failing kernel (its input is pending): its output is poisoned too
      be.kernels.unary('exp', view(f, [8]), view(g, [8]));
      const read = s.read(f, 'float32', 0, 8);
      const readG = s.read(g, 'float32', 0, 8);
      // an unrelated kernel still works meanwhile
      be.kernels.unary('neg', view(ok, [8]), view(h, [8]));
      expect(Array.from(s.readSync!(h, 'float32', 0, 3))).toEqual([-1, -2, -3]);
      expect(be.pending).toBe(5);
      be.injectFault('release');
      expectTyped(await read.then(() => null, (e: unknown) => e), code, msg);
      expectTyped(await readG.then(() => null, (e: unknown) => e), code, msg);
      // once done: sync readers and consuming kernels on the JS thread throw the same
      expectTyped(thrownBy(() => s.readSync!(f, 'float32', 0, 8)), code, msg);
      expectTyped(thrownBy(() => be.kernels.unary('exp', view(f, [8]), view(h, [8]))), code, msg);
      // the backend is fine afterwards, and freeing the poisoned buffers clears them
      for (const b of [f, g, h, ok]) s.release(b);
      const fresh = s.upload('float32', Float32Array.of(2));
      expect(Array.from(await s.read(fresh, 'float32', 0, 1))).toEqual([2]);
      s.release(fresh);
      expect(be.pending).toBe(0);
      const after = s.stats();
      expect([after.liveBuffers, after.liveBytes]).toEqual([before.liveBuffers, before.liveBytes]);
    });
  }

  it('a read of a released buffer rejects (not throws) with a handle error', async () => {
    const s = queued.storage;
    const a = s.alloc('float32', 4);
    s.release(a);
    const p = s.read(a, 'float32', 0, 4);
    expect(p).toBeInstanceOf(Promise);
    expectTyped(await p.then(() => null, (e: unknown) => e), 'ERR_TESSERA_NATIVE_HANDLE', /freed buffer/);
  });
});

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

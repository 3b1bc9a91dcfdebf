/**
 * Storage, handles and safety: exact accounting, pooling, use after free, double free,
 * foreign buffers, out-of-bounds views, dispose, and the loader's error messages. None of
 * these may crash the process: each must throw a NativeBackendError.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { add, BackendError, DisposedTensorError, setBackend, tensor, TesseraError, type Buf, type DType, type View } from '@tessera/core';
import { createJsBackend } from '@tessera/backend-js';
import { createNativeBackend, loadAddon, NativeBackendError, NativeBuf, type NativeBackend } from '../src/index.js';

let be: NativeBackend;
beforeEach(async () => {
  be = await createNativeBackend();
});
afterEach(() => be.dispose());

function view(buf: Buf, dtype: DType, shape: number[], strides?: number[], offset = 0): View {
  const st = strides ?? shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return { buf, dtype, shape, strides: st, offset, size: shape.reduce((a, b) => a * b, 1) };
}

function thrown(fn: () => unknown): NativeBackendError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NativeBackendError);
    expect(e).toBeInstanceOf(BackendError); // core's error hierarchy
    expect(e).toBeInstanceOf(TesseraError);
    return e as NativeBackendError;
  }
  throw new Error('expected a NativeBackendError');
}

describe('storage', () => {
  it('reports live buffers and bytes exactly, and pools freed memory', () => {
    const s = be.storage;
    expect(s.stats()).toEqual({ liveBuffers: 0, liveBytes: 0, pooledBytes: 0 });
    const a = s.alloc('float32', 10);
    const b = s.alloc('bool', 3);
    const c = s.alloc('int32', 0);
    expect(a.byteLength).toBe(40);
    expect(b.byteLength).toBe(3);
    expect(s.stats()).toMatchObject({ liveBuffers: 3, liveBytes: 43 });
    s.retain(a);
    s.release(a);
    expect(s.stats()).toMatchObject({ liveBuffers: 3, liveBytes: 43 });
    s.release(a);
    expect(s.stats()).toMatchObject({ liveBuffers: 2, liveBytes: 3 });
    expect(s.stats().pooledBytes).toBeGreaterThanOrEqual(40);
    const d = s.alloc('float32', 10); // reuses the pooled allocation
    expect(s.stats().pooledBytes).toBe(0);
    for (const x of [b, c, d]) s.release(x);
    expect(s.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
    be.storage.trim();
    expect(s.stats().pooledBytes).toBe(0);
  });

  it('uploads and reads every dtype, with offsets, sub-arrays and conversion', async () => {
    const s = be.storage;
    const f = s.upload('float32', Float32Array.of(1.5, -2, NaN, 4));
    expect(Array.from(s.readSync!(f, 'float32', 1, 2))).toEqual([-2, NaN]);
    expect(await s.read(f, 'float32', 0, 4)).toEqual(Float32Array.of(1.5, -2, NaN, 4));
    const big = new Int32Array(100).map((_, i) => i);
    const i = s.upload('int32', big.subarray(10, 20));
    expect(Array.from(s.readSync!(i, 'int32', 0, 3))).toEqual([10, 11, 12]);
    const u = s.upload('bool', Uint8Array.of(1, 0, 1));
    expect(s.readSync!(u, 'bool', 0, 3)).toEqual(Uint8Array.of(1, 0, 1));
    const conv = s.upload('float32', Int32Array.of(3, -4) as unknown as Float32Array);
    expect(Array.from(s.readSync!(conv, 'float32', 0, 2))).toEqual([3, -4]);
    // float32 and int32 views of one buffer share its bytes
    expect(s.readSync!(f, 'int32', 0, 1)[0]).toBe(new Int32Array(Float32Array.of(1.5).buffer)[0]);
    expect(s.readSync!(f, 'float32', 4, 0)).toEqual(new Float32Array(0));
    await expect(s.read(f, 'float32', 3, 2)).rejects.toBeInstanceOf(NativeBackendError);
    for (const x of [f, i, u, conv]) s.release(x);
  });
});

describe('handle checks', () => {
  it('use after free, double free, retain after free', () => {
    const s = be.storage;
    const a = s.alloc('float32', 4);
    s.release(a);
    expect(thrown(() => be.kernels.fill(view(a, 'float32', [4]), 1)).message).toMatch(/freed buffer/);
    expect(thrown(() => s.release(a)).message).toMatch(/double free/);
    expect(thrown(() => s.retain(a)).code).toBe('ERR_TESSERA_NATIVE_HANDLE');
    expect(thrown(() => s.readSync!(a, 'float32', 0, 1)).message).toMatch(/freed/);
  });

  it('a handle the JS side wrongly believes live is still caught in Rust', () => {
    const s = be.storage;
    const a = s.alloc('float32', 4) as NativeBuf;
    const o = s.alloc('float32', 4);
    s.release(a);
    a.refs = 1; // a corrupted JS-side count: only the Rust slot check stands in the way
    for (const fn of [() => be.kernels.fill(view(a, 'float32', [4]), 1), () => be.kernels.copy(view(a, 'float32', [4]), view(o, 'float32', [4])), () => s.readSync!(a, 'float32', 0, 4), () => s.release(a)]) {
      const e = thrown(fn);
      expect(e.code).toBe('ERR_TESSERA_NATIVE_HANDLE');
      expect(e.message).toMatch(/buffer handle \d+ \(slot \d+, generation \d+\) is not live/);
    }
    a.refs = 0;
    s.release(o);
    expect(s.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
  });

  it('buffers of another backend or another native instance', async () => {
    const js = await createJsBackend();
    const other = await createNativeBackend();
    const jb = js.storage.alloc('float32', 4);
    const ob = other.storage.alloc('float32', 4);
    const mine = be.storage.alloc('float32', 4);
    expect(thrown(() => be.kernels.copy(view(jb, 'float32', [4]), view(mine, 'float32', [4]))).message).toMatch(/does not belong to the native backend/);
    expect(thrown(() => be.kernels.copy(view(ob, 'float32', [4]), view(mine, 'float32', [4]))).message).toMatch(/another native backend instance/);
    expect(thrown(() => be.storage.release(ob)).code).toBe('ERR_TESSERA_NATIVE_HANDLE');
    other.storage.release(ob);
    other.dispose();
    js.dispose();
    be.storage.release(mine);
  });

  it('views outside their buffer, bad op codes and bad shapes throw instead of crashing', () => {
    const s = be.storage;
    const a = s.alloc('float32', 6);
    const o = s.alloc('float32', 6);
    expect(thrown(() => be.kernels.fill(view(a, 'float32', [7]), 0)).message).toMatch(/out of bounds/);
    expect(thrown(() => be.kernels.fill(view(a, 'float32', [2], [-1]), 0)).message).toMatch(/out of bounds/);
    expect(thrown(() => be.kernels.fill(view(a, 'float32', [3], [3], 1), 0)).message).toMatch(/out of bounds/);
    expect(thrown(() => be.kernels.copy(view(a, 'float32', [6]), view(o, 'float32', [2, 3]))).message).toMatch(/shapes/);
    expect(thrown(() => be.kernels.unary('nope' as never, view(a, 'float32', [6]), view(o, 'float32', [6]))).message).toMatch(/unknown unary op/);
    expect(thrown(() => be.kernels.fill(view(a, 'float32', [1.5 as number]), 0)).message).toMatch(/integer/);
    expect(thrown(() => be.kernels.matmul(view(a, 'float32', [2, 3]), view(a, 'float32', [2, 3]), view(o, 'float32', [2, 3]))).message).toMatch(/do not fit/);
    expect(thrown(() => be.kernels.randomBits([1, 2], -1, view(o, 'float32', [6]))).message).toMatch(/counter/);
    const deep = new Array(17).fill(1);
    expect(thrown(() => be.kernels.fill(view(a, 'float32', deep), 0)).message).toMatch(/rank 17/);
    for (const x of [a, o]) s.release(x);
  });

  it('Rust panics, on the JS thread or in a pool task, become typed errors and the backend keeps working', () => {
    for (const kind of ['panic', 'poolPanic'] as const) {
      const e = thrown(() => be.injectFault(kind));
      expect(e.code).toBe('ERR_TESSERA_NATIVE_PANIC');
      expect(e.message).toMatch(/internal error \(Rust panic\): injected fault/);
      expect(e.name).toBe('NativeBackendError');
    }
    const s = be.storage;
    const a = s.upload('float32', Float32Array.of(1, 4, 9));
    const o = s.alloc('float32', 3);
    be.kernels.unary('sqrt', view(a, 'float32', [3]), view(o, 'float32', [3]));
    expect(Array.from(s.readSync!(o, 'float32', 0, 3))).toEqual([1, 2, 3]);
    for (const b of [a, o]) s.release(b);
    expect(s.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
  });

  it('through the core: disposed tensors and tensors of two native instances are typed errors', async () => {
    const other = await createNativeBackend();
    setBackend(be);
    const a = tensor([1, 2, 3]);
    setBackend(other);
    const b = tensor([1, 2, 3]);
    expect(() => add(a, b)).toThrow(BackendError);
    a.dispose();
    expect(() => add(a, a)).toThrow(DisposedTensorError);
    b.dispose();
    expect(other.storage.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
    expect(be.storage.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
    other.dispose();
  });

  it('rank-16 views work', () => {
    const s = be.storage;
    const shape = [2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1];
    const x = s.upload('float32', Float32Array.from({ length: 256 }, (_, i) => i));
    const o = s.alloc('float32', 256);
    const rev = view(x, 'float32', shape);
    const flipped = { ...rev, strides: rev.strides.map((st) => -st), offset: 255 };
    be.kernels.copy(flipped, view(o, 'float32', shape));
    expect(s.readSync!(o, 'float32', 0, 3)).toEqual(Float32Array.of(255, 254, 253));
    for (const b of [x, o]) s.release(b);
  });
});

describe('lifecycle', () => {
  it('dispose frees everything; later kernels throw, later releases are no-ops', async () => {
    const b = await createNativeBackend({ threads: 1 });
    const a = b.storage.alloc('float32', 1000);
    b.dispose();
    expect(b.storage.stats()).toEqual({ liveBuffers: 0, liveBytes: 0, pooledBytes: 0 });
    expect(() => b.storage.release(a)).not.toThrow();
    expect(thrown(() => b.storage.alloc('float32', 1)).message).toMatch(/disposed/);
    expect(thrown(() => b.kernels.fill(view(a, 'float32', [1]), 0)).message).toMatch(/disposed/);
    b.dispose(); // twice is fine
    await expect(b.flush()).resolves.toBeUndefined();
  });

  it('rejects bad options and reports what it runs on', async () => {
    await expect(createNativeBackend({ threads: 0 })).rejects.toThrow(/threads/);
    await expect(createNativeBackend({ threads: 1.5 })).rejects.toThrow(/threads/);
    expect(be.name).toBe('native');
    expect(be.caps).toEqual({ stridedInputs: true, syncRead: true });
    expect(be.info.hardwareThreads).toBeGreaterThanOrEqual(1);
    expect(typeof be.info.gemm).toBe('string');
    be.setThreads(1);
    expect(be.threads).toBe(1);
    expect(thrown(() => be.setThreads(0)).message).toMatch(/threads/);
  });

  it('the loader names the missing file and how to build it', async () => {
    expect(() => loadAddon('/nonexistent/tessera_native.node')).toThrow(/not built; looked for \/nonexistent\/tessera_native\.node.*pnpm --filter @tessera\/backend-native build/);
    await expect(createNativeBackend({ addonPath: '/nonexistent/x.node' })).rejects.toThrow(/not built/);
    // a file that exists but is not a loadable addon
    await expect(createNativeBackend({ addonPath: new URL('../package.json', import.meta.url).pathname })).rejects.toThrow(/could not be loaded/);
  });
});

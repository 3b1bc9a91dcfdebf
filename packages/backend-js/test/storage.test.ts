import { describe, expect, it } from 'vitest';
import { createJsBackend, jsBackend } from '../src/index.js';

describe('backend object', () => {
  it('createJsBackend resolves to a js backend with strided inputs and sync reads', async () => {
    const be = await createJsBackend();
    expect(be.name).toBe('js');
    expect(be.caps).toEqual({ stridedInputs: true, syncRead: true });
    expect(typeof be.storage.readSync).toBe('function');
    for (const k of ['matmulFused', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'pool2d', 'pool2dBackward',
      'softmax', 'softmaxCrossEntropy', 'layerNorm', 'optimizerStep'] as const) {
      expect(typeof be.fused[k]).toBe('function');
    }
    await expect(be.flush()).resolves.toBeUndefined();
    be.dispose();
    expect(() => be.storage.alloc('float32', 1)).toThrow(/disposed/);
  });

  it('each backend has its own storage', () => {
    const a = jsBackend(), b = jsBackend();
    a.storage.alloc('float32', 4);
    expect(a.storage.stats().liveBuffers).toBe(1);
    expect(b.storage.stats().liveBuffers).toBe(0);
  });
});

describe('storage', () => {
  it('uploads, reads a fresh copy of a range, and counts bytes per dtype', async () => {
    const { storage } = jsBackend();
    const f = storage.upload('float32', new Float32Array([1, 2, 3, 4]));
    const i = storage.upload('int32', new Int32Array([5, 6]));
    const b = storage.upload('bool', new Uint8Array([1, 0, 1]));
    expect(storage.stats()).toEqual({ liveBuffers: 3, liveBytes: 16 + 8 + 3, pooledBytes: 0 });
    const r = storage.readSync!(f, 'float32', 1, 2);
    expect(r).toBeInstanceOf(Float32Array);
    expect(Array.from(r)).toEqual([2, 3]);
    r[0] = 99;
    expect(Array.from(storage.readSync!(f, 'float32', 0, 4))).toEqual([1, 2, 3, 4]);
    expect(Array.from(await storage.read(i, 'int32', 0, 2))).toEqual([5, 6]);
    expect(storage.readSync!(b, 'bool', 0, 3)).toBeInstanceOf(Uint8Array);
    expect(f.byteLength).toBe(16);
    expect(b.byteLength).toBe(3);
  });

  it('upload copies its input', () => {
    const { storage } = jsBackend();
    const src = new Float32Array([1, 2]);
    const buf = storage.upload('float32', src);
    src[0] = 7;
    expect(Array.from(storage.readSync!(buf, 'float32', 0, 2))).toEqual([1, 2]);
  });

  it('reference counts: retain/release, release to zero frees, further use throws', async () => {
    const { storage } = jsBackend();
    const buf = storage.alloc('float32', 8);
    storage.retain(buf);
    storage.release(buf);
    expect(storage.stats().liveBuffers).toBe(1);
    storage.release(buf);
    expect(storage.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
    expect(() => storage.release(buf)).toThrow(/no references left/);
    expect(() => storage.retain(buf)).toThrow(/freed/);
    expect(() => storage.readSync!(buf, 'float32', 0, 1)).toThrow(/freed/);
    await expect(storage.read(buf, 'float32', 0, 1)).rejects.toThrow(/freed/);
  });

  it('pools freed arrays, reuses them, and does not count them as live', () => {
    const { storage } = jsBackend();
    const a = storage.alloc('float32', 100);
    storage.release(a);
    expect(storage.stats()).toEqual({ liveBuffers: 0, liveBytes: 0, pooledBytes: 400 });
    const b = storage.alloc('float32', 100);
    expect(storage.stats()).toEqual({ liveBuffers: 1, liveBytes: 400, pooledBytes: 0 });
    // a different dtype or size does not take the pooled array
    storage.release(b);
    storage.alloc('int32', 100);
    storage.alloc('float32', 99);
    expect(storage.stats().pooledBytes).toBe(400);
  });

  it('a freed buffer stays freed even when its array is reused by a new buffer', () => {
    const be = jsBackend();
    const a = be.storage.upload('float32', new Float32Array([1, 2]));
    be.storage.release(a);
    const b = be.storage.upload('float32', new Float32Array([3, 4]));
    expect(Array.from(be.storage.readSync!(b, 'float32', 0, 2))).toEqual([3, 4]);
    const view = { buf: a, dtype: 'float32' as const, shape: [2], strides: [1], offset: 0, size: 2 };
    const out = { buf: b, dtype: 'float32' as const, shape: [2], strides: [1], offset: 0, size: 2 };
    expect(() => be.kernels.copy(view, out)).toThrow(/freed/);
  });

  it('rejects out-of-range reads and bad sizes; size-0 buffers work', () => {
    const { storage } = jsBackend();
    const buf = storage.alloc('int32', 2);
    expect(() => storage.readSync!(buf, 'int32', 1, 2)).toThrow(/outside/);
    expect(() => storage.alloc('float32', -1)).toThrow();
    const z = storage.alloc('bool', 0);
    expect(z.byteLength).toBe(0);
    expect(storage.readSync!(z, 'bool', 0, 0).length).toBe(0);
  });

  it('float32 and int32 views may alias one buffer; bool may not', () => {
    const { storage } = jsBackend();
    const buf = storage.upload('float32', new Float32Array([1]));
    expect(storage.readSync!(buf, 'int32', 0, 1)[0]).toBe(0x3f800000);
    expect(() => storage.readSync!(buf, 'bool', 0, 1)).toThrow(/cannot be viewed/);
  });

  it('rejects buffers of another backend', () => {
    const { storage } = jsBackend();
    expect(() => storage.release({ byteLength: 4 })).toThrow(/does not belong/);
  });

  it('dispose empties the pool', () => {
    const be = jsBackend();
    be.storage.release(be.storage.alloc('float32', 10));
    expect(be.storage.stats().pooledBytes).toBe(40);
    be.dispose();
    expect(be.storage.stats().pooledBytes).toBe(0);
  });

  it('upload converts a differently typed array (bool as x != 0)', () => {
    const { storage } = jsBackend();
    const b = storage.upload('bool', new Float32Array([0, 0.5, -2, NaN]));
    expect(Array.from(storage.readSync!(b, 'bool', 0, 4))).toEqual([0, 1, 1, 1]);
    const i = storage.upload('int32', new Uint8Array([1, 0, 255]));
    expect(Array.from(storage.readSync!(i, 'int32', 0, 3))).toEqual([1, 0, 255]);
  });

  it('kernels allocate no storage, even when they use temporaries for strided outputs', () => {
    const be = jsBackend();
    const { storage, kernels, fused } = be;
    const up = (d: number[], shape: number[]) => ({ buf: storage.upload('float32', Float32Array.from(d)), dtype: 'float32' as const, shape, strides: shape.length === 2 ? [shape[1], 1] : [1], offset: 0, size: d.length });
    const a = up([1, 2, 3, 4], [2, 2]);
    const big = storage.alloc('float32', 8);
    const strided = { buf: big, dtype: 'float32' as const, shape: [2, 2], strides: [4, 2], offset: 0, size: 4 };
    const before = storage.stats();
    kernels.matmul(a, a, strided);
    fused.matmulFused!(a, a, null, 'relu', strided);
    fused.conv2d!({ ...a, shape: [1, 2, 2, 1], strides: [4, 2, 1, 1] }, { ...a, shape: [1, 1, 1, 1], strides: [1, 1, 1, 1], size: 1 },
      { window: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] }, { ...strided, shape: [1, 2, 2, 1], strides: [8, 4, 2, 1] });
    kernels.randomBits([1, 2], 0, strided);
    kernels.gather(a, { buf: storage.upload('int32', new Int32Array([1, 0])), dtype: 'int32', shape: [2], strides: [1], offset: 0, size: 2 }, 0, strided);
    const after = storage.stats();
    expect(after.liveBuffers).toBe(before.liveBuffers + 1); // only the uploaded indices
  });
});

/**
 * Stale and foreign handles caught in Rust, not only by the JS-side reference counts. A
 * freed buffer's slot is reused by the next allocation; its old handle must then fail
 * (generation check) instead of addressing the new buffer, and a handle of another native
 * instance must fail even where it names a live slot (tag check). Each test makes the
 * JS-side check pass on purpose (a released `NativeBuf` with its count set back to 1, or a
 * `NativeBuf` forged onto another instance) and calls the raw backend API directly, so only
 * the Rust check stands between the call and the wrong buffer; then it proves that the
 * buffer now in the slot was neither written nor freed, and that nothing leaked.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendError, TesseraError, type Buf, type View } from '@tessera/core';
import { createNativeBackend, NativeBackendError, NativeBuf, type NativeBackend } from '../src/index.js';

/** Handles keep the slot index in their low 24 bits (see `native/src/storage.rs`). */
const slotOf = (b: Buf): number => (b as NativeBuf).id % 2 ** 24;

function view(buf: Buf, shape: number[]): View {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return { buf, dtype: 'float32', shape, strides, offset: 0, size: shape.reduce((a, b) => a * b, 1) };
}

/** The handle error `fn` throws; checks its class and code, and that it names `op`. */
function handleError(fn: () => unknown, op: string): NativeBackendError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NativeBackendError);
    expect(e).toBeInstanceOf(BackendError);
    expect(e).toBeInstanceOf(TesseraError);
    const err = e as NativeBackendError;
    expect(err.code, err.message).toBe('ERR_TESSERA_NATIVE_HANDLE');
    expect(err.message).toContain(`${op}: buffer handle`);
    return err;
  }
  throw new Error(`expected ${op} to throw a NativeBackendError`);
}

/** A released buffer whose JS-side count is set back to 1: only Rust can catch it now. */
function resurrect(b: Buf): NativeBuf {
  const n = b as NativeBuf;
  expect(n.refs).toBe(0);
  n.refs = 1;
  return n;
}

const STALE = /buffer handle \d+ \(slot \d+, generation \d+\) is not live: its buffer was released and the slot now holds a newer buffer/;

let be: NativeBackend;
beforeEach(async () => {
  be = await createNativeBackend({ threads: 2 });
});
afterEach(() => be.dispose());

describe('stale handles of a reused slot (JS thread)', () => {
  it('kernels, fused kernels, reads, raw writes and a double free all fail; the new buffer is untouched', async () => {
    const s = be.storage;
    const o = s.upload('float32', Float32Array.of(-1, -2, -3, -4));
    const a = s.upload('float32', Float32Array.of(1, 2, 3, 4));
    s.release(a);
    const b = s.upload('float32', Float32Array.of(9, 8, 7, 6));
    // the premise: b lives in a's slot, under another handle
    expect(slotOf(b)).toBe(slotOf(a));
    expect((b as NativeBuf).id).not.toBe((a as NativeBuf).id);
    const stale = resurrect(a);
    const va = view(stale, [4]);
    const vb = view(b, [4]);
    const vo = view(o, [4]);
    const calls: Array<[string, () => unknown]> = [
      ['fill', () => be.kernels.fill(va, 0)], // stale output
      ['copy', () => be.kernels.copy(vo, va)],
      ['copy', () => be.kernels.copy(va, vo)], // stale input
      ['binary', () => be.kernels.binary('add', vb, va, vo)],
      ['unary', () => be.kernels.unary('exp', vo, va)],
      ['reduce', () => be.kernels.reduce('sum', va, [0], view(o, []))],
      ['matmul', () => be.kernels.matmul(view(stale, [2, 2]), view(b, [2, 2]), view(o, [2, 2]))],
      ['matmulFused', () => be.fused.matmulFused(view(b, [2, 2]), view(b, [2, 2]), view(stale, [2]), 'relu', view(o, [2, 2]))],
      ['softmax', () => be.fused.softmax(vb, false, va)],
      ['read', () => s.readSync!(stale, 'float32', 0, 4)],
    ];
    for (const [op, fn] of calls) expect(handleError(fn, op).message).toMatch(STALE);
    // the async read rejects (it does not throw) with the same error
    const rejected = await s.read(stale, 'float32', 0, 4).then(
      () => null,
      (e: unknown) => e,
    );
    expect(rejected).toBeInstanceOf(NativeBackendError);
    expect((rejected as NativeBackendError).message).toMatch(/readAsync: .*newer buffer/);
    // the raw addon function that writes bytes into a buffer
    const c = stale.ctx;
    c.S[0] = stale.id;
    c.S[1] = 0;
    const raw = (() => {
      try {
        c.fns.write(Float32Array.of(0, 0, 0, 0));
        return null;
      } catch (e) {
        return e as { code?: string; message: string };
      }
    })();
    expect(raw?.code).toBe('ERR_TESSERA_NATIVE_HANDLE');
    expect(raw?.message).toMatch(/write: .*newer buffer/);
    // double free: Rust refuses, and b stays live
    const before = s.stats();
    expect(handleError(() => s.release(stale), 'free').message).toMatch(/newer buffer.*double free/);
    expect(s.stats()).toEqual(before);
    expect(s.readSync!(b, 'float32', 0, 4)).toEqual(Float32Array.of(9, 8, 7, 6));
    expect(s.readSync!(o, 'float32', 0, 4)).toEqual(Float32Array.of(-1, -2, -3, -4));
    // b is fully usable
    be.kernels.binary('add', vb, vb, vo);
    expect(s.readSync!(o, 'float32', 0, 4)).toEqual(Float32Array.of(18, 16, 14, 12));
    stale.refs = 0;
    s.release(b);
    s.release(o);
    expect(s.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
  });

  it('a freed handle whose slot is still empty, and one reused twice over, are told apart', () => {
    const s = be.storage;
    const a = s.alloc('float32', 2);
    s.release(a);
    const stale = resurrect(a);
    expect(handleError(() => be.kernels.fill(view(stale, [2]), 1), 'fill').message).toMatch(/is not live: its buffer was released; used after release/);
    stale.refs = 0;
    const b = s.alloc('float32', 2);
    s.release(b);
    const c = s.upload('float32', Float32Array.of(5, 6));
    expect(slotOf(c)).toBe(slotOf(a));
    for (const old of [a, b]) {
      const n = resurrect(old);
      expect(handleError(() => be.kernels.fill(view(n, [2]), 1), 'fill').message).toMatch(/newer buffer \(generation 2\)/);
      n.refs = 0;
    }
    expect(s.readSync!(c, 'float32', 0, 2)).toEqual(Float32Array.of(5, 6));
    s.release(c);
    expect(s.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
  });
});

describe('foreign handles', () => {
  it("another instance's handle for the same slot and generation is rejected in Rust", async () => {
    const other = await createNativeBackend({ threads: 1 });
    const mine = be.storage.upload('float32', Float32Array.of(1, 2, 3));
    const theirs = other.storage.upload('float32', Float32Array.of(4, 5, 6)) as NativeBuf;
    expect(slotOf(theirs)).toBe(slotOf(mine)); // both fresh: same slot and generation
    // forged onto this instance, so the JS-side owner check passes
    const forged = new NativeBuf((mine as NativeBuf).ctx, theirs.id, theirs.byteLength);
    const msg = /is not live in this backend: it was made by another native backend instance/;
    expect(handleError(() => be.kernels.fill(view(forged, [3]), 0), 'fill').message).toMatch(msg);
    expect(handleError(() => be.storage.readSync!(forged, 'float32', 0, 3), 'read').message).toMatch(msg);
    expect(handleError(() => be.storage.release(forged), 'free').message).toMatch(msg);
    expect(be.storage.readSync!(mine, 'float32', 0, 3)).toEqual(Float32Array.of(1, 2, 3));
    expect(other.storage.readSync!(theirs, 'float32', 0, 3)).toEqual(Float32Array.of(4, 5, 6));
    expect(be.storage.stats()).toMatchObject({ liveBuffers: 1, liveBytes: 12 });
    other.storage.release(theirs);
    other.dispose();
    be.storage.release(mine);
    expect(be.storage.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
  });

  it('a bare slot index (what a handle used to be) is not a handle', () => {
    const a = be.storage.upload('float32', Float32Array.of(7));
    const bare = new NativeBuf((a as NativeBuf).ctx, slotOf(a), 4);
    expect(handleError(() => be.kernels.fill(view(bare, [1]), 0), 'fill').message).toMatch(/another native backend instance \(or is not a handle at all\)/);
    expect(be.storage.readSync!(a, 'float32', 0, 1)).toEqual(Float32Array.of(7));
    be.storage.release(a);
  });
});

describe('stale handles on the queued (worker) path', () => {
  it('kernels that would be queued, reads queued behind work and frees of fenced buffers check handles at the call', async () => {
    const q = await createNativeBackend({ threads: 2, asyncThreshold: 0 }); // every matmul is queued
    const s = q.storage;
    const x = s.upload('float32', Float32Array.of(1, 2, 3, 4));
    const y = s.alloc('float32', 4);
    const fenced = s.alloc('float32', 4);
    q.injectFault('hold'); // the worker waits: the matmuls below stay queued
    q.kernels.matmul(view(x, [2, 2]), view(x, [2, 2]), view(y, [2, 2]));
    q.kernels.matmul(view(x, [2, 2]), view(x, [2, 2]), view(fenced, [2, 2]));
    expect(q.pending).toBe(3);

    // an unfenced buffer: freed, its slot reused at once
    const a = s.alloc('float32', 4);
    s.release(a);
    const b = s.upload('float32', Float32Array.of(9, 8, 7, 6));
    expect(slotOf(b)).toBe(slotOf(a));
    const stale = resurrect(a);
    // a kernel that would queue (it reads y, which a queued matmul writes), and a queued matmul
    expect(handleError(() => q.kernels.binary('add', view(y, [4]), view(stale, [4]), view(b, [4])), 'binary').message).toMatch(STALE);
    expect(handleError(() => q.kernels.matmul(view(stale, [2, 2]), view(x, [2, 2]), view(b, [2, 2])), 'matmul').message).toMatch(STALE);
    expect(handleError(() => q.kernels.matmul(view(x, [2, 2]), view(x, [2, 2]), view(stale, [2, 2])), 'matmul').message).toMatch(STALE);
    expect(q.pending).toBe(3); // nothing was queued by the rejected calls

    // a fenced buffer: its handle dies at release, its slot waits for the matmul
    s.release(fenced);
    const dead = resurrect(fenced);
    await expect(s.read(dead, 'float32', 0, 4)).rejects.toThrow(/readAsync: .*is not live: its buffer was released/);
    expect(handleError(() => q.kernels.copy(view(dead, [4]), view(b, [4])), 'copy').message).toMatch(/its buffer was released/);
    expect(handleError(() => s.release(dead), 'free').message).toMatch(/double free/);
    dead.refs = 1; // release counted down to 0 before Rust refused
    expect(q.pending).toBe(3);

    q.injectFault('release');
    await q.flush();
    expect(q.pending).toBe(0);
    // now the slot is swept and reused: the old handle meets a newer buffer
    const d = s.upload('float32', Float32Array.of(3, 1, 4, 1));
    expect(slotOf(d)).toBe(slotOf(fenced));
    expect(handleError(() => q.kernels.matmul(view(dead, [2, 2]), view(x, [2, 2]), view(d, [2, 2])), 'matmul').message).toMatch(STALE);
    await expect(s.read(dead, 'float32', 0, 4)).rejects.toThrow(STALE);
    expect(handleError(() => s.release(dead), 'free').message).toMatch(/double free/);

    // the buffers now in those slots, and the queued work, are as they should be
    expect(await s.read(b, 'float32', 0, 4)).toEqual(Float32Array.of(9, 8, 7, 6));
    expect(await s.read(d, 'float32', 0, 4)).toEqual(Float32Array.of(3, 1, 4, 1));
    expect(await s.read(y, 'float32', 0, 4)).toEqual(Float32Array.of(7, 10, 15, 22));
    stale.refs = 0;
    dead.refs = 0;
    for (const buf of [x, y, b, d]) s.release(buf);
    expect(s.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
    q.dispose();
  });
});

/**
 * The device runtime: one command encoder recorded across kernels and submitted once per
 * batch (on read, flush, a full batch, or at the end of the current task), a uniform arena
 * written once per submit, a pipeline cache, a pool of storage blocks in size classes,
 * WebGPU error scopes around every batch, and device-loss handling that rejects instead of
 * hanging.
 * @module
 */
import { BackendError } from '@tessera/core';

// GPUBufferUsage / GPUMapMode values (the globals may be missing in Node until Dawn loads).
const MAP_READ = 0x0001;
const MAP_WRITE = 0x0002;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

/** Bytes of one uniform arena chunk (WebGPU's minimum maxUniformBufferBindingSize is 64 KiB). */
const ARENA_BYTES = 65536;
/**
 * Pool caps: total bytes kept, blocks kept per size class. The per-class cap is generous
 * because a training step frees hundreds of same-sized temporaries and allocates them again
 * in the next step: destroying and recreating them every step churns buffers and bind groups.
 */
const POOL_MAX_BYTES = 512 * 1024 * 1024;
const POOL_MAX_PER_CLASS = 2048;
/**
 * Bind groups kept in the cache; the oldest are evicted beyond it. Why a bound far below
 * 65 536: every live bind group is a Vulkan descriptor set, and Mesa's lavapipe backs each
 * descriptor set with its own mmap. Linux allows 65 530 maps per process
 * (vm.max_map_count); past that lavapipe's mmap fails and it writes through a null pointer
 * (SIGSEGV). A bind group stays alive after eviction until V8 collects its wrapper and the
 * GPU has passed the last submit that used it, so the cache must be the steady state.
 */
const GROUP_CACHE = 8192;

let nextBlockId = 0;

/** A GPU buffer with its capacity and the batch that last used it. */
export class Block {
  /** Batch id of the last recorded command that touched it (-1: never). */
  lastBatch = -1;
  /** Identity within the process (bind-group cache keys). */
  readonly id = nextBlockId++;
  /** Keys of the cached bind groups that name this block (dropped when it is destroyed). */
  readonly groupKeys = new Set<string>();
  constructor(readonly buffer: GPUBuffer, readonly size: number, readonly usage: number) {}
}

/** A cached bind group and the blocks it names. */
interface CachedGroup {
  group: GPUBindGroup;
  blocks: Block[];
}

/** A binding: a byte range of a block. */
export interface BindRange {
  block: Block;
  offset: number;
  size: number;
}

/** Access of a storage binding in a shader. */
export type Access = 'r' | 'w';

/** A compiled kernel: its pipeline and bind group layout. */
export interface Pipe {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** The binding signature (`r`/`w` per storage binding): bind groups are shared by it. */
  sig: string;
  /** Uniform words the shader declares (the bound range covers them). */
  words: number;
}

/** Limits the kernels plan with. */
export interface PlanLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
  minStorageBufferOffsetAlignment: number;
  minUniformBufferOffsetAlignment: number;
}

/**
 * Size class of a request: at least 256 bytes, then quarter-power-of-two steps (at most 25%
 * slack), so freed blocks serve nearby sizes.
 * @example sizeClass(1000); // 1024
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const k = Math.floor(Math.log2(bytes - 1));
  const step = 2 ** Math.max(8, k - 2);
  return Math.ceil(bytes / step) * step;
}

/**
 * Arenas per uniform GPU buffer. Arenas share buffers, bound with offset 0 and reached by the
 * dynamic offset, so a bind group does not depend on which arena a dispatch landed in (batch
 * boundaries move, and a per-arena key made most dispatches miss the bind-group cache).
 */
const ARENAS_PER_BUFFER = 16;
let nextUniformBufferId = 0;

class Arena {
  readonly cpu = new ArrayBuffer(ARENA_BYTES);
  readonly u32 = new Uint32Array(this.cpu);
  used = 0;
  /** `gpuId` identifies the shared buffer; `base` is this arena's byte offset in it. */
  constructor(readonly gpu: GPUBuffer, readonly gpuId: number, readonly base: number) {}
}

/** Error text of a GPUError (or anything thrown). */
function messageOf(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/**
 * Owns the device and everything recorded on it.
 */
export class Runtime {
  readonly device: GPUDevice;
  readonly queue: GPUQueue;
  readonly limits: PlanLimits;
  /** Id of the batch being recorded; incremented by every submit. */
  batch = 0;
  /** Submits so far (for tests and benchmarks). */
  submits = 0;
  /** Dispatches so far. */
  dispatches = 0;
  /** Bind groups created so far (a cache miss each). */
  bindGroups = 0;
  /** Pipelines compiled so far. */
  compiled = 0;
  /** Set when the device is lost (or destroyed by dispose). */
  lostReason: string | null = null;
  disposed = false;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private readonly maxBatch: number;
  private scopeOpen = false;
  private errorChecks: Promise<GPUError | null>[] = [];
  private asyncError: string | null = null;
  private submitSoon: Promise<void> | null = null;
  private autoSubmitScheduled = false;
  private readonly lostPromise: Promise<never>;
  private readonly afterSubmit: GPUBuffer[] = [];

  private readonly arenas: Arena[] = [];
  private readonly activeArenas: Arena[] = [];
  private arena: Arena | null = null;
  private readonly uniformAlign: number;

  private readonly pipes = new Map<string, Pipe>();
  /** Bind groups by layout, uniform buffer and storage ranges (the uniform offset is dynamic). */
  private readonly groups = new Map<string, CachedGroup>();
  private readonly bindLayouts = new Map<string, [GPUBindGroupLayout, GPUPipelineLayout]>();

  private readonly pool = new Map<number, Block[]>();
  private readonly readPool = new Map<number, Block[]>();
  /** Bytes of storage blocks sitting in the pool. */
  pooledBytes = 0;
  private readonly allBlocks = new Set<Block>();

  constructor(device: GPUDevice, options: { limits?: Partial<PlanLimits>; maxBatch?: number } = {}) {
    this.device = device;
    this.queue = device.queue;
    const l = device.limits;
    const o = options.limits ?? {};
    const lower = (k: keyof PlanLimits, v: number): number => Math.min(v, o[k] ?? v);
    this.limits = {
      maxStorageBufferBindingSize: lower('maxStorageBufferBindingSize', l.maxStorageBufferBindingSize),
      maxBufferSize: lower('maxBufferSize', l.maxBufferSize),
      maxComputeWorkgroupsPerDimension: lower('maxComputeWorkgroupsPerDimension', l.maxComputeWorkgroupsPerDimension),
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
    };
    this.uniformAlign = Math.max(16, l.minUniformBufferOffsetAlignment);
    this.maxBatch = options.maxBatch ?? 256;
    this.lostPromise = device.lost.then((info) => {
      if (this.lostReason === null) this.lostReason = this.disposed ? 'the backend was disposed' : `${info.reason}: ${info.message}`;
      throw this.lostError('device');
    });
    this.lostPromise.catch(() => undefined);
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.asyncError ??= describeError(ev.error);
    };
  }

  /** A BackendError for an operation on a lost or disposed device. */
  lostError(op: string): BackendError {
    if (this.disposed) return new BackendError(op, 'webgpu backend: the backend was disposed');
    return new BackendError(op, `webgpu backend: the WebGPU device was lost (${this.lostReason ?? 'unknown reason'}); create a new backend`);
  }

  /** Throws if the device cannot take work. */
  check(op: string): void {
    if (this.disposed || this.lostReason !== null) throw this.lostError(op);
  }

  // ---------------------------------------------------------------------------------------
  // Error scopes: every batch runs inside out-of-memory / validation / internal scopes.

  private openScope(): void {
    if (this.scopeOpen) return;
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('internal');
    this.scopeOpen = true;
  }

  private closeScope(): void {
    if (!this.scopeOpen) return;
    this.scopeOpen = false;
    for (let i = 0; i < 3; i++) this.errorChecks.push(this.device.popErrorScope().catch(() => null));
    if (this.errorChecks.length > 96) {
      // A program that never reads: keep one promise for the first error, not one per scope.
      const all = this.errorChecks;
      this.errorChecks = [Promise.all(all).then((errs) => errs.find((e) => e !== null) ?? null)];
    }
  }

  /**
   * Waits for the error scopes of every submitted batch and throws the first error as a
   * BackendError (out-of-memory errors say so).
   */
  async checkErrors(op: string): Promise<void> {
    const checks = this.errorChecks;
    this.errorChecks = [];
    const errors = await Promise.all(checks);
    const first = errors.find((e) => e !== null) ?? null;
    let msg = first !== null ? describeError(first) : null;
    if (msg === null && this.asyncError !== null) msg = this.asyncError;
    this.asyncError = null;
    if (msg !== null) throw new BackendError(op, `webgpu backend: ${msg}`);
  }

  // ---------------------------------------------------------------------------------------
  // Blocks and the pool.

  /**
   * A new storage block of at least `bytes`: from the pool when one of its class is free, and
   * then always the free block with the lowest id. Why not LIFO: the block a request gets
   * then depends only on which blocks are free, not on the order earlier steps freed them, so
   * a training step that recurs (same shapes) gets the same blocks and hits the bind-group
   * cache instead of creating a bind group per dispatch (see GROUP_CACHE).
   */
  takeBlock(bytes: number, op: string): Block {
    this.check(op);
    if (bytes > this.limits.maxBufferSize) {
      throw new BackendError(op, `webgpu backend: out of memory: a buffer of ${bytes} bytes exceeds the device's maxBufferSize (${this.limits.maxBufferSize} bytes)`);
    }
    let size = sizeClass(bytes);
    if (size > this.limits.maxBufferSize) size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const pooled = this.pool.get(size)?.pop();
    if (pooled !== undefined) {
      this.pooledBytes -= size;
      return pooled;
    }
    return this.createBlock(size, STORAGE | COPY_SRC | COPY_DST, 'tessera-storage');
  }

  /** Returns a block to the pool, or destroys it when the pool is full. */
  giveBlock(block: Block): void {
    if (this.disposed) return;
    const size = block.size;
    const list = this.pool.get(size) ?? [];
    if (sizeClass(size) !== size || list.length >= POOL_MAX_PER_CLASS || this.pooledBytes + size > POOL_MAX_BYTES) {
      this.destroyBlock(block);
      return;
    }
    // Kept sorted by descending id, so pop() takes the lowest id.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].id > block.id) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, block);
    this.pool.set(size, list);
    this.pooledBytes += size;
  }

  /** Destroys every pooled block (what `trim()` does). */
  trimPool(): void {
    for (const list of this.pool.values()) for (const b of list) this.destroyBlock(b);
    this.pool.clear();
    this.pooledBytes = 0;
  }

  private createBlock(size: number, usage: number, label: string, mapped = false): Block {
    this.openScope();
    const buffer = this.device.createBuffer({ size, usage, label, mappedAtCreation: mapped });
    const block = new Block(buffer, size, usage);
    if (!mapped) this.allBlocks.add(block);
    return block;
  }

  private destroyBlock(block: Block): void {
    this.allBlocks.delete(block);
    // Only the bind groups naming the block die with it: clearing the whole cache here made
    // every dispatch of the next step create a bind group (see GROUP_CACHE for the cost).
    for (const key of [...block.groupKeys]) this.dropGroup(key);
    if (block.lastBatch === this.batch && this.encoder !== null) this.afterSubmit.push(block.buffer);
    else block.buffer.destroy();
  }

  /** Removes one cached bind group and its back references from the blocks it names. */
  private dropGroup(key: string): void {
    const g = this.groups.get(key);
    if (g === undefined) return;
    this.groups.delete(key);
    for (const b of g.blocks) b.groupKeys.delete(key);
  }

  // ---------------------------------------------------------------------------------------
  // Recording.

  private ensureEncoder(): GPUCommandEncoder {
    if (this.encoder === null) {
      this.openScope();
      this.encoder = this.device.createCommandEncoder({ label: `tessera-batch-${this.batch}` });
      if (!this.autoSubmitScheduled) {
        // Work recorded in one synchronous run goes out as one submit at the end of the task.
        this.autoSubmitScheduled = true;
        queueMicrotask(() => {
          this.autoSubmitScheduled = false;
          if (!this.disposed && this.lostReason === null) this.submit();
        });
      }
    }
    return this.encoder;
  }

  private ensurePass(): GPUComputePassEncoder {
    if (this.pass === null) this.pass = this.ensureEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
  }

  /**
   * The pipeline for `key`, compiling `code()` on first use. `access` lists the storage
   * bindings 1..n in order (`r` read-only, `w` read-write); binding 0 is the uniform block.
   */
  pipe(key: string, access: readonly Access[], words: number, code: () => string): Pipe {
    let p = this.pipes.get(key);
    if (p !== undefined) return p;
    const sig = access.join('');
    let layouts = this.bindLayouts.get(sig);
    if (layouts === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: 'uniform', hasDynamicOffset: true } }];
      access.forEach((a, i) => entries.push({ binding: i + 1, visibility: 4, buffer: { type: a === 'r' ? 'read-only-storage' : 'storage' } }));
      const bgl = this.device.createBindGroupLayout({ entries });
      layouts = [bgl, this.device.createPipelineLayout({ bindGroupLayouts: [bgl] })];
      this.bindLayouts.set(sig, layouts);
    }
    this.openScope();
    const module = this.device.createShaderModule({ code: code(), label: key });
    const pipeline = this.device.createComputePipeline({ layout: layouts[1], compute: { module, entryPoint: 'main' }, label: key });
    p = { pipeline, layout: layouts[0], sig, words: Math.max(4, Math.ceil(words / 4) * 4) };
    this.compiled++;
    this.pipes.set(key, p);
    return p;
  }


  private uniformSlot(words: Uint32Array, declared: number): [Arena, number, number] {
    const bytes = declared * 4;
    const slot = Math.ceil(bytes / this.uniformAlign) * this.uniformAlign;
    let a = this.arena;
    if (a === null || a.used + slot > ARENA_BYTES) {
      if (this.arenas.length === 0) {
        const gpu = this.device.createBuffer({ size: ARENA_BYTES * ARENAS_PER_BUFFER, usage: UNIFORM | COPY_DST, label: 'tessera-uniforms' });
        const id = nextUniformBufferId++;
        for (let i = ARENAS_PER_BUFFER - 1; i >= 0; i--) this.arenas.push(new Arena(gpu, id, i * ARENA_BYTES));
      }
      a = this.arenas.pop()!;
      this.activeArenas.push(a);
      this.arena = a;
    }
    const at = a.used;
    a.u32.fill(0, at / 4, (at + bytes) / 4);
    a.u32.set(words.subarray(0, Math.min(words.length, declared)), at / 4);
    a.used += slot;
    return [a, a.base + at, bytes];
  }

  /**
   * Records one dispatch of `pipe` over `groups` workgroups (a linear count, laid out as a
   * 2-D grid within maxComputeWorkgroupsPerDimension; shaders read their linear index as
   * `wid.x + wid.y * nwg.x`).
   */
  dispatch(pipe: Pipe, uniforms: Uint32Array, bindings: readonly BindRange[], groups: number): void {
    if (groups <= 0) return;
    const maxX = this.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, maxX);
    const y = Math.ceil(groups / x);
    if (y > maxX) throw new BackendError('dispatch', `webgpu backend: ${groups} workgroups exceed ${maxX}² (split the op)`);
    const pass = this.ensurePass();
    const [arena, uoff, usize] = this.uniformSlot(uniforms, pipe.words);
    let key = `${pipe.sig}|${arena.gpuId}|${usize}`;
    for (let i = 0; i < bindings.length; i++) {
      const b = bindings[i];
      b.block.lastBatch = this.batch;
      key += `|${b.block.id}.${b.offset}.${b.size}`;
    }
    let group = this.groups.get(key)?.group;
    if (group === undefined) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: arena.gpu, offset: 0, size: usize } }];
      for (let i = 0; i < bindings.length; i++) {
        const b = bindings[i];
        entries.push({ binding: i + 1, resource: { buffer: b.block.buffer, offset: b.offset, size: b.size } });
      }
      group = this.device.createBindGroup({ layout: pipe.layout, entries });
      this.bindGroups++;
      // Evict the oldest (a Map iterates in insertion order).
      while (this.groups.size >= GROUP_CACHE) this.dropGroup(this.groups.keys().next().value as string);
      const blocks = bindings.map((b) => b.block);
      for (const b of blocks) b.groupKeys.add(key);
      this.groups.set(key, { group, blocks });
    }
    pass.setPipeline(pipe.pipeline);
    pass.setBindGroup(0, group, [uoff]);
    pass.dispatchWorkgroups(x, y, 1);
    this.dispatches++;
    if (++this.recorded >= this.maxBatch) this.submit();
  }

  /** Records a buffer-to-buffer copy (byte offsets and size multiples of 4). */
  copyBlock(src: Block, srcOffset: number, dst: Block, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    const enc = this.ensureEncoder();
    this.endPass();
    src.lastBatch = this.batch;
    dst.lastBatch = this.batch;
    enc.copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    this.recorded++;
  }

  /**
   * Writes host bytes into a block: `queue.writeBuffer` when no recorded (unsubmitted)
   * command uses the block, else through a mapped staging buffer copied in order.
   */
  write(dst: Block, dstOffset: number, data: ArrayBufferView): void {
    const bytes = data.byteLength;
    if (bytes === 0) return;
    this.openScope();
    if (dst.lastBatch !== this.batch || this.encoder === null) {
      this.queue.writeBuffer(dst.buffer, dstOffset, data.buffer as ArrayBuffer, data.byteOffset, bytes);
      return;
    }
    const staging = this.createBlock(Math.ceil(bytes / 4) * 4, MAP_WRITE | COPY_SRC, 'tessera-upload', true);
    new Uint8Array(staging.buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, bytes));
    staging.buffer.unmap();
    this.copyBlock(staging, 0, dst, dstOffset, Math.ceil(bytes / 4) * 4);
    this.afterSubmit.push(staging.buffer);
  }

  /** Submits everything recorded so far (no-op when nothing is). */
  submit(): void {
    if (this.encoder === null) {
      this.closeScope();
      return;
    }
    this.endPass();
    const cmd = this.encoder.finish();
    this.encoder = null;
    for (const a of this.activeArenas) {
      this.queue.writeBuffer(a.gpu, a.base, a.cpu, 0, a.used);
      a.used = 0;
      this.arenas.push(a);
    }
    this.activeArenas.length = 0;
    this.arena = null;
    this.queue.submit([cmd]);
    this.submits++;
    this.batch++;
    this.recorded = 0;
    for (const b of this.afterSubmit) b.destroy();
    this.afterSubmit.length = 0;
    this.closeScope();
  }

  /** Resolves after a submit at the end of the current task (shared by every caller in it). */
  private submitShared(): Promise<void> {
    this.submitSoon ??= Promise.resolve().then(() => {
      this.submitSoon = null;
      this.submit();
    });
    return this.submitSoon;
  }

  /** Races a promise against device loss. */
  guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.lostPromise]);
  }

  /**
   * Copies `bytes` from a block into host memory after every command recorded before the
   * call has run. Only the batch holding the copy is waited for.
   */
  async read(src: Block, offset: number, bytes: number, op: string): Promise<ArrayBuffer> {
    this.check(op);
    const padded = Math.ceil(bytes / 4) * 4;
    const size = sizeClass(padded);
    const staging = this.readPool.get(size)?.pop() ?? this.createBlock(size, MAP_READ | COPY_DST, 'tessera-readback');
    this.copyBlock(src, offset, staging, 0, padded);
    await this.submitShared();
    const errors = this.checkErrors(op);
    try {
      await this.guard(staging.buffer.mapAsync(MAP_MODE_READ, 0, padded));
    } catch (e) {
      await errors.catch(() => undefined);
      if (e instanceof BackendError) throw e;
      if (this.lostReason !== null || this.disposed) throw this.lostError(op);
      throw new BackendError(op, `webgpu backend: mapAsync failed: ${messageOf(e)}`);
    }
    const out = staging.buffer.getMappedRange(0, padded).slice(0, bytes);
    staging.buffer.unmap();
    const list = this.readPool.get(size) ?? [];
    if (list.length < 4) {
      list.push(staging);
      this.readPool.set(size, list);
    } else {
      staging.buffer.destroy();
      this.allBlocks.delete(staging);
    }
    await errors;
    return out;
  }

  /** Submits pending work and resolves when the queue has run everything submitted. */
  async flush(op = 'flush'): Promise<void> {
    this.check(op);
    this.submit();
    const errors = this.checkErrors(op);
    try {
      await this.guard(this.queue.onSubmittedWorkDone());
    } catch (e) {
      await errors.catch(() => undefined);
      if (e instanceof BackendError) throw e;
      throw new BackendError(op, `webgpu backend: ${messageOf(e)}`);
    }
    await errors;
  }

  /** Destroys every buffer and the device. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      if (this.encoder !== null) {
        this.endPass();
        this.encoder.finish();
        this.encoder = null;
      }
    } catch {
      // a lost device may refuse; nothing to keep
    }
    for (const b of this.allBlocks) b.buffer.destroy();
    this.allBlocks.clear();
    for (const gpu of new Set([...this.arenas, ...this.activeArenas].map((a) => a.gpu))) gpu.destroy();
    this.arenas.length = 0;
    this.activeArenas.length = 0;
    this.pool.clear();
    this.readPool.clear();
    this.pooledBytes = 0;
    this.pipes.clear();
    this.groups.clear();
    this.device.onuncapturederror = null;
    this.device.destroy();
  }
}

/** One line describing a GPUError, naming out-of-memory errors as such. */
function describeError(e: GPUError): string {
  const kind = e.constructor?.name ?? 'GPUError';
  if (kind === 'GPUOutOfMemoryError') return `out of memory on the GPU: ${e.message}`;
  if (kind === 'GPUValidationError') return `WebGPU validation error (a bug in the backend, please report it): ${e.message}`;
  if (kind === 'GPUInternalError') return `WebGPU internal error: ${e.message}`;
  return `${kind}: ${e.message}`;
}

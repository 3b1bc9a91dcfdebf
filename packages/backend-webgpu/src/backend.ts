/**
 * Assembles the WebGPU backend: device, storage, required and fused kernels.
 * @module
 */
import { BackendError, type Backend, type FusedKernels, type Kernels } from '@tessera/core';
import { Ctx } from './ctx.js';
import { acquireDevice, type WebGpuOptions } from './gpu.js';
import { Runtime } from './runtime.js';
import { WebGpuStorage } from './storage.js';
import { binaryOp, castOp, compareOp, copy, fill, unaryOp, whereOp } from './kernels/elementwise.js';
import { runMap } from './kernels/map.js';
import { argReduce, cumulative, reduce } from './kernels/reduce.js';
import { matmul, matmulFused } from './kernels/matmul.js';
import { gather, scatterAdd } from './kernels/indexing.js';
import { randomBits } from './kernels/random.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './kernels/conv.js';
import { pool2d, pool2dBackward } from './kernels/pool.js';
import { layerNorm, softmax, softmaxCrossEntropy } from './kernels/rows.js';
import { optimizerStep } from './kernels/optimizer.js';

/** A WebGPU backend, with a few extras beyond {@link Backend}. */
export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  /** The device the backend runs on. */
  readonly device: GPUDevice;
  /** The adapter it came from. */
  readonly adapter: GPUAdapter;
  /**
   * Counters: submits, dispatches, compiled pipelines, and bind groups created (cache misses;
   * flat in a steady training loop, which is what keeps lavapipe's per-bind-group mmaps bounded).
   */
  counters(): { submits: number; dispatches: number; pipelines: number; bindGroups: number };
  /** Destroys the pooled (free) GPU buffers. */
  trim(): void;
}

/** Wraps kernels so that a call on a lost or disposed device throws a BackendError at once. */
function guarded<T extends object>(rt: Runtime, kernels: T): T {
  const out = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(kernels)) {
    out[name] = (...args: unknown[]) => {
      rt.check(name);
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return out as T;
}

/**
 * A backend over an existing device (the device is owned by the backend from then on).
 */
export function webGpuBackendFromDevice(device: GPUDevice, adapter: GPUAdapter, options: WebGpuOptions = {}): WebGpuBackend {
  const rt = new Runtime(device, { limits: options.limits, maxBatch: options.maxBatch });
  const ctx = new Ctx(rt);
  const storage = new WebGpuStorage(rt);
  const kernels: Kernels = {
    fill: (out, value) => fill(ctx, out, value),
    copy: (x, out) => copy(ctx, x, out),
    cast: (x, out) => runMap(ctx, castOp(x.dtype, out.dtype), [x], out, [], 'cast'),
    unary: (op, x, out) => runMap(ctx, unaryOp(op, x.dtype, out.dtype), [x], out, [], op),
    binary: (op, a, b, out) => runMap(ctx, binaryOp(op, out.dtype), [a, b], out, [], op),
    compare: (op, a, b, out) => runMap(ctx, compareOp(op, a.dtype), [a, b], out, [], op),
    where: (cond, a, b, out) => runMap(ctx, whereOp(out.dtype), [cond, a, b], out, [], 'where'),
    reduce: (op, x, axes, out) => reduce(ctx, op, x, axes, out),
    argReduce: (op, x, axis, out) => argReduce(ctx, op, x, axis, out),
    cumulative: (op, x, axis, exclusive, reverse, out) => cumulative(ctx, op, x, axis, exclusive, reverse, out),
    matmul: (a, b, out) => matmul(ctx, a, b, out),
    gather: (x, indices, axis, out) => gather(ctx, x, indices, axis, out),
    scatterAdd: (indices, updates, axis, out) => scatterAdd(ctx, indices, updates, axis, out),
    randomBits: (key, counter, out) => randomBits(ctx, key, counter, out),
  };
  const fused: Omit<FusedKernels, 'scaledDotProductAttention'> = {
    matmulFused: (a, b, bias, act, out) => matmulFused(ctx, a, b, bias, act, out),
    conv2d: (x, f, p, out) => conv2d(ctx, x, f, p, out),
    conv2dBackpropInput: (dy, f, p, out) => conv2dBackpropInput(ctx, dy, f, p, out),
    conv2dBackpropFilter: (x, dy, p, out) => conv2dBackpropFilter(ctx, x, dy, p, out),
    pool2d: (kind, x, p, out) => pool2d(ctx, kind, x, p, out),
    pool2dBackward: (kind, x, dy, p, out) => pool2dBackward(ctx, kind, x, dy, p, out),
    softmax: (x, log, out) => softmax(ctx, x, log, out),
    softmaxCrossEntropy: (logits, labels, out) => softmaxCrossEntropy(ctx, logits, labels, out),
    layerNorm: (x, gamma, beta, eps, out) => layerNorm(ctx, x, gamma, beta, eps, out),
    optimizerStep: (kind, params, grads, state, hyper) => optimizerStep(ctx, kind, params, grads, state, hyper),
  };
  return {
    name: 'webgpu',
    caps: { stridedInputs: true, syncRead: false },
    storage,
    kernels: guarded(rt, kernels),
    fused: guarded(rt, fused),
    device,
    adapter,
    flush: () => rt.flush('flush'),
    dispose: () => rt.dispose(),
    counters: () => ({ submits: rt.submits, dispatches: rt.dispatches, pipelines: rt.compiled, bindGroups: rt.bindGroups }),
    trim: () => rt.trimPool(),
  };
}

/** Checks that the device computes: one tiny kernel and a read (a null adapter computes nothing). */
async function selfTest(be: WebGpuBackend): Promise<void> {
  const buf = be.storage.upload('float32', new Float32Array([1, 2, 3]));
  const out = be.storage.alloc('float32', 3);
  const v = (b: typeof buf) => ({ buf: b, dtype: 'float32' as const, shape: [3], strides: [1], offset: 0, size: 3 });
  try {
    be.kernels.binary('add', v(buf), v(buf), v(out));
    const got = await be.storage.read(out, 'float32', 0, 3);
    if (got[0] !== 2 || got[1] !== 4 || got[2] !== 6) {
      throw new BackendError('createWebGpuBackend', `the WebGPU adapter does not compute correctly (2*[1,2,3] gave [${Array.from(got).join(', ')}]); is it a null/stub adapter?`);
    }
  } finally {
    be.storage.release(buf);
    be.storage.release(out);
  }
}

/**
 * Creates the WebGPU backend: `navigator.gpu` in a browser, the npm package `webgpu` (Dawn)
 * in Node. Rejects with a BackendError that says why it cannot run (no `navigator.gpu`,
 * `webgpu` not installed, no adapter — in Node usually a missing Vulkan driver, with the
 * `VK_ICD_FILENAMES` to set —, device lost).
 * @example
 * import { init } from '@tessera/core';
 * import { createWebGpuBackend } from '@tessera/backend-webgpu';
 * await init({ backends: { webgpu: () => createWebGpuBackend() }, prefer: ['webgpu'] });
 */
export async function createWebGpuBackend(options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const { adapter, device } = await acquireDevice(options);
  const be = webGpuBackendFromDevice(device, adapter, options);
  try {
    await selfTest(be);
  } catch (e) {
    be.dispose();
    if (e instanceof BackendError && e.op === 'createWebGpuBackend') throw e;
    throw new BackendError('createWebGpuBackend', `the WebGPU device failed its first kernel: ${(e as Error).message}`);
  }
  return be;
}

/**
 * TensorFlow.js 4.22 peers: the `cpu` backend (@tensorflow/tfjs) and the `wasm` backend
 * (@tensorflow/tfjs-backend-wasm, XNNPACK; single-threaded in Node), plus the tfjs-node row,
 * which cannot be installed offline.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { timeReps, type Prepared } from '../measure.js';
import { errorMessage } from '../stats.js';
import type { SubjectInfo } from '../types.js';
import { quietly, uniformData, type KernelSubject } from './kernel-subject.js';

type TF = typeof import('@tensorflow/tfjs');
type TfTensor = import('@tensorflow/tfjs').Tensor;

const require = createRequire(import.meta.url);
/** tfjs's cpu backend warns in Node that tfjs-node would be faster (once, on its first write). */
export const TFJS_NODE_HINT = /tfjs-node|TensorFlow\.js in Node\.js|={10,}/;

export const TFJS_NODE_INFO: SubjectInfo = {
  id: 'tfjs-node',
  label: 'tfjs-node',
  kind: 'peer',
  family: 'node',
  status: 'unavailable',
  detail:
    'not installable offline: @tensorflow/tfjs-node downloads libtensorflow (a native TensorFlow build) from storage.googleapis.com in its install script',
};

/** The folder holding tfjs-backend-wasm's own .wasm files, with a trailing separator. */
export function tfjsWasmDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

/** Loads tfjs and makes `backend` (`cpu` or `wasm`) current; wasm gets its file paths first. */
export async function loadTfjs(backend: 'cpu' | 'wasm'): Promise<TF> {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // A file path (not a URL): tfjs-backend-wasm reads it with fs in Node; no network.
    wasm.setWasmPaths(tfjsWasmDir());
  }
  // The cpu backend prints its tfjs-node hint on its first tensor write: do that one quietly.
  const ok = await quietly(TFJS_NODE_HINT, async () => {
    const set = await tf.setBackend(backend);
    if (set) tf.tensor([0]).dispose();
    return set;
  });
  if (!ok || tf.getBackend() !== backend) throw new Error(`tf.setBackend('${backend}') failed`);
  return tf;
}

function tfjsVersion(): string {
  try {
    return (require('@tensorflow/tfjs/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}

/** The kernel subject of tfjs's `cpu` or `wasm` backend (unavailable, with the reason, if it fails to load). */
export async function tfjsKernelSubject(name: 'cpu' | 'wasm'): Promise<KernelSubject> {
  const id = `tfjs-${name}`;
  const label = `tfjs ${name}`;
  let tf: TF;
  try {
    tf = await loadTfjs(name);
  } catch (e) {
    return { info: { id, label, kind: 'peer', family: 'node', status: 'unavailable', detail: `failed to initialise: ${errorMessage(e)}` } };
  }
  const v = tfjsVersion();
  let detail = `@tensorflow/tfjs ${v}, 1 thread`;
  if (name === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    detail = `@tensorflow/tfjs-backend-wasm ${v} (XNNPACK${simd ? ', SIMD' : ', no SIMD'}${mt ? ', threads' : ', 1 thread in Node'})`;
  }
  return tfjsSubject(tf, name, { id, label, kind: 'peer', family: 'node', status: 'ok', detail });
}

function tfjsSubject(tf: TF, name: 'cpu' | 'wasm', info: SubjectInfo): KernelSubject {
  const use = async () => {
    if (tf.getBackend() !== name) await tf.setBackend(name);
  };
  const prepared = (tensors: TfTensor[], body: (reps: number) => Promise<number>): Prepared => ({
    run: async (reps) => {
      await use();
      return body(reps);
    },
    dispose: () => tf.dispose(tensors),
  });
  const upload = async (data: Float32Array, shape: number[]) => {
    await use();
    return tf.tensor(data, shape, 'float32');
  };
  // Both backends run kernels synchronously, so the work is done when the op returns.
  return {
    info,
    async matmul(n) {
      const a = await upload(uniformData(n * n, 1), [n, n]);
      const b = await upload(uniformData(n * n, 2), [n, n]);
      return prepared([a, b], (reps) => timeReps(reps, () => tf.matMul(a, b).dispose()));
    },
    async elementwise(kind, n) {
      const a = await upload(uniformData(n, 3), [n]);
      const b = await upload(uniformData(n, 4), [n]);
      const half = tf.scalar(0.5);
      const op =
        kind === 'add'
          ? () => tf.add(a, b).dispose()
          : () => tf.tidy(() => tf.mul(tf.relu(tf.sub(tf.mul(tf.add(a, b), a), b)), half)).dispose();
      return prepared([a, b, half], (reps) => timeReps(reps, op));
    },
    async overhead(autograd, count) {
      const x = await upload(new Float32Array([1]), [1]);
      const one = await upload(new Float32Array([1e-3]), [1]);
      const chain = (x0: TfTensor) => {
        let y = x0;
        for (let i = 0; i < count; i++) y = tf.add(y, one);
        return y;
      };
      if (!autograd) {
        return prepared([x, one], (reps) =>
          timeReps(reps, () => {
            const y = tf.tidy(() => chain(x));
            y.dataSync();
            y.dispose();
          }),
        );
      }
      const g = tf.grad(chain as (x: TfTensor) => TfTensor);
      return prepared([x, one], (reps) =>
        timeReps(reps, () => {
          const dx = tf.tidy(() => g(x));
          dx.dataSync();
          dx.dispose();
        }),
      );
    },
  };
}

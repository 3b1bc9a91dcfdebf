/**
 * Tessera subjects: one per backend package (@tessera/backend-js, -wasm, -native, -webgpu), each
 * opened in its own subject server process (`subject-server.ts`); a package that is missing,
 * unbuilt, exports no factory or fails to initialise becomes an unavailable subject with the reason.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as core from '@tessera/core';
import type { Backend, Tensor } from '@tessera/core';
import { timeReps, type Prepared } from '../measure.js';
import { appPath } from '../paths.js';
import { errorMessage } from '../stats.js';
import { tesseraExports } from '../tessera-modules.js';
import type { SubjectInfo } from '../types.js';
import { uniformData, type ElementwiseKind, type KernelSubject } from './kernel-subject.js';

export const TESSERA_BACKENDS = [
  { name: 'js', pkg: '@tessera/backend-js' },
  { name: 'wasm', pkg: '@tessera/backend-wasm' },
  { name: 'native', pkg: '@tessera/backend-native' },
  { name: 'webgpu', pkg: '@tessera/backend-webgpu' },
] as const;

type Factory = (opts?: Record<string, unknown>) => Promise<Backend>;

export interface TesseraBackendHandle {
  info: SubjectInfo;
  /** The backend name as the package knows it (`js`, `wasm`, ...). */
  name: string;
  pkg: string;
  /** What to import when it is not the package name (a workspace file URL). */
  entry?: string;
  /** Options passed to the factory (e.g. `{ threads: 1 }`). */
  options?: Record<string, unknown>;
  backend?: Backend;
  /** A WebGPU backend running on a software adapter (llvmpipe, SwiftShader): CPU emulation. */
  softwareGpu?: boolean;
  /** Threads the backend reports (more than one: the bench adds a 1-thread instance). */
  threads?: number;
  /** backend-wasm: whether its relaxed-SIMD (fused multiply-add) kernels are in use. */
  relaxedSimd?: boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
      timer.unref();
    }),
  ]);
}

/** The adapter a GPU backend runs on (from `backend.adapter.info`), if it exposes one. */
function gpuAdapter(backend: Backend): { text: string; software: boolean } | undefined {
  const adapter = (backend as { adapter?: { info?: Record<string, string>; isFallbackAdapter?: boolean } }).adapter;
  if (!adapter) return undefined;
  const i = adapter.info ?? {};
  const desc = [i.vendor, i.architecture, i.device].filter(Boolean).join(' ');
  const software = adapter.isFallbackAdapter === true || i.architecture === 'software' || /llvmpipe|swiftshader|lavapipe/i.test(`${i.device} ${i.description}`);
  return { text: `adapter: ${desc || 'unknown'}${i.description ? ` (${i.description})` : ''}${software ? ' — a software (CPU) rasterizer, not a GPU' : ''}`, software };
}

/** The built ESM entry of packages/backend-<name> in this workspace, if there is one. */
function workspaceEntry(name: string): string | undefined {
  const dir = appPath('..', '..', 'packages', `backend-${name}`);
  const file = path.join(dir, 'dist', 'index.js');
  return existsSync(path.join(dir, 'package.json')) && existsSync(file) ? file : undefined;
}

/** Why an import failed, in words a reader of the table understands. */
function importReason(pkg: string, e: unknown): string {
  const msg = errorMessage(e);
  const code = (e as { code?: string }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' && msg.includes(`'${pkg}'`)) return 'not installed';
  if (code === 'ERR_MODULE_NOT_FOUND' && /dist[/\\]index/.test(msg)) return `not built (run \`pnpm --filter ${pkg} build\`)`;
  return `failed to import: ${msg}`;
}

/** The factory a backend package exports: `create<Name>Backend`, else any `create*Backend`. */
export function findFactory(mod: Record<string, unknown>, name: string): Factory | undefined {
  const exact = `create${name[0].toUpperCase()}${name.slice(1)}Backend`;
  if (typeof mod[exact] === 'function') return mod[exact] as Factory;
  const any = Object.keys(mod).find((k) => /^create\w*Backend$/.test(k) && typeof mod[k] === 'function');
  return any ? (mod[any] as Factory) : undefined;
}

/**
 * Imports and initialises one Tessera backend (`js`, `wasm`, ...) with factory `options`. With
 * `{ threads: 1 }` it is the 1-thread instance (`tessera-wasm-1t`). A package that is missing,
 * unbuilt, exports no factory or fails to initialise gives an unavailable handle with the reason.
 */
export async function openTessera(name: string, options?: { threads?: number }): Promise<TesseraBackendHandle> {
  const known = TESSERA_BACKENDS.find((b) => b.name === name);
  if (!known) throw new Error(`unknown Tessera backend '${name}' (known: ${TESSERA_BACKENDS.map((b) => b.name).join(', ')})`);
  const { pkg } = known;
  const oneThread = options?.threads === 1;
  const id = `tessera-${name}${oneThread ? '-1t' : ''}`;
  const label = `Tessera ${name}${oneThread ? ' (1 thr)' : ''}`;
  const unavailable = (detail: string, entry?: string): TesseraBackendHandle => ({ name, pkg, entry, options, info: { id, label, kind: 'tessera', status: 'unavailable', detail } });
  let mod: Record<string, unknown>;
  let fromWorkspace = '';
  let entry: string | undefined;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (e) {
    // Not a dependency of this app (yet)? Try the workspace package directly for a real reason.
    const ws = workspaceEntry(name);
    const detail = importReason(pkg, e);
    if (detail !== 'not installed' || !ws) return unavailable(detail);
    try {
      entry = pathToFileURL(ws).href;
      mod = (await import(entry)) as Record<string, unknown>;
      fromWorkspace = ` (loaded from the workspace: ${pkg} is not yet a dependency of @tessera/app-bench)`;
    } catch (e2) {
      return unavailable(`not a dependency of @tessera/app-bench; the workspace copy fails to import: ${errorMessage(e2)}`);
    }
  }
  const factory = findFactory(mod, name);
  if (!factory) {
    const keys = Object.keys(mod);
    return unavailable(`${pkg} exports no create*Backend factory yet (exports: ${keys.length ? keys.join(', ') : 'nothing'})${fromWorkspace}`, entry);
  }
  let backend: Backend;
  try {
    backend = await withTimeout(factory(options), 60_000, `${pkg} initialisation${oneThread ? ' (1 thread)' : ''}`);
  } catch (e) {
    return unavailable(`failed to initialise${oneThread ? ' with threads: 1' : ''}: ${errorMessage(e)}${fromWorkspace}`, entry);
  }
  const threads = (backend as { threads?: number }).threads;
  const note = (backend as { threadsNote?: string | null }).threadsNote;
  const multi = typeof threads === 'number' && threads > 1;
  const gpu = gpuAdapter(backend);
  const where = gpu ? gpu.text : typeof threads === 'number' ? `${threads} thread${threads === 1 ? '' : 's'}` : '1 thread (JS main thread)';
  const detail = oneThread ? '1 thread' : [where, note ?? '', fromWorkspace.trim()].filter(Boolean).join('; ');
  return {
    name,
    pkg,
    entry,
    options,
    backend,
    threads,
    relaxedSimd: (backend as { relaxedSimd?: boolean }).relaxedSimd,
    softwareGpu: gpu?.software,
    info: { id, label: multi ? `${label} (${threads} thr)` : label, kind: 'tessera', status: 'ok', detail },
  };
}

interface Autograd {
  valueAndGrad: (f: (...xs: Tensor[]) => Tensor) => (...xs: Tensor[]) => { value: Tensor; grads: Tensor[] };
}

/** The kernel-workload subject of one initialised Tessera backend. */
export function tesseraKernelSubject(h: TesseraBackendHandle): KernelSubject {
  const backend = h.backend;
  if (!backend) return { info: h.info };
  const use = () => core.setBackend(backend);
  const flush = () => backend.flush();
  const upload = (data: Float32Array, shape: number[]) => {
    use();
    return core.tensor(data, shape, 'float32');
  };
  const prepared = (tensors: Tensor[], body: (reps: number) => Promise<number>): Prepared => ({
    run: (reps) => {
      use();
      return body(reps);
    },
    dispose: () => core.dispose(tensors),
  });
  return {
    info: h.info,
    async matmul(n) {
      const a = upload(uniformData(n * n, 1), [n, n]);
      const b = upload(uniformData(n * n, 2), [n, n]);
      return prepared([a, b], (reps) => timeReps(reps, () => core.matmul(a, b).dispose(), flush));
    },
    async elementwise(kind: ElementwiseKind, n) {
      const a = upload(uniformData(n, 3), [n]);
      const b = upload(uniformData(n, 4), [n]);
      const op =
        kind === 'add'
          ? () => core.add(a, b).dispose()
          : () => core.tidy(() => core.mul(core.relu(core.sub(core.mul(core.add(a, b), a), b)), 0.5)).dispose();
      return prepared([a, b], (reps) => timeReps(reps, op, flush));
    },
    async overhead(autograd, count) {
      const x = upload(new Float32Array([1]), [1]);
      const one = upload(new Float32Array([1e-3]), [1]);
      const chain = (x0: Tensor) => {
        let y = x0;
        for (let i = 0; i < count; i++) y = core.add(y, one);
        return y;
      };
      if (!autograd) {
        return prepared([x, one], (reps) =>
          timeReps(reps, async () => {
            const y = core.tidy(() => chain(x));
            await y.data();
            y.dispose();
          }),
        );
      }
      const { valueAndGrad } = await tesseraExports<Autograd>('@tessera/autograd', ['valueAndGrad']);
      const vg = valueAndGrad(chain);
      return prepared([x, one], (reps) =>
        timeReps(reps, async () => {
          const { value, grads } = core.tidy(() => vg(x));
          await grads[0].data();
          core.dispose([value, ...grads]);
        }),
      );
    },
    close() {
      backend.dispose();
    },
  };
}

/**
 * Choosing a backend at run time: registration, explicit async initialisation with reasons
 * for each failure, switching, and moving tensors between backends.
 * @module
 */
import type { Backend, BackendFactory } from './backend/types.js';
import { countsFor, engine, getBackend } from './engine.js';
import { ArgumentError, BackendError } from './errors.js';
import { Tensor } from './tensor.js';

interface Registration {
  factory: BackendFactory;
  priority: number;
  instance?: Backend;
}

const registry = new Map<string, Registration>();

/**
 * Makes a backend available to {@link init} under `name`. Higher priority is tried first.
 * @example registerBackend('js', createJsBackend, 1);
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  if (typeof name !== 'string' || name.length === 0) throw new ArgumentError('registerBackend', 'name must be a non-empty string');
  if (typeof factory !== 'function') throw new ArgumentError('registerBackend', `factory for '${name}' must be a function returning Promise<Backend>`);
  const prev = registry.get(name);
  registry.set(name, { factory, priority, instance: prev?.factory === factory ? prev.instance : undefined });
}

/**
 * Names of the registered backends, highest priority first, and which are initialised.
 * @example listBackends() // [{ name: 'js', priority: 1, ready: true, current: true }]
 */
export function listBackends(): { name: string; priority: number; ready: boolean; current: boolean }[] {
  return [...registry.entries()]
    .sort((a, b) => b[1].priority - a[1].priority)
    .map(([name, r]) => ({ name, priority: r.priority, ready: r.instance !== undefined, current: r.instance !== undefined && r.instance === engine.backend }));
}

/** Options of {@link init}. */
export interface InitOptions {
  /** Backend names to try in order; default: every registered backend by priority. */
  prefer?: readonly string[];
  /** Extra backends to register first (name → factory). */
  backends?: Record<string, BackendFactory>;
}

/** What {@link init} chose and why the others were not chosen. */
export interface InitResult {
  backend: Backend;
  failures: { name: string; reason: string }[];
}

/**
 * Initialises the first backend that starts (in `prefer` order, else by priority), makes it
 * current and reports why each earlier one failed. Never lazy: ops before `init` throw.
 * @example
 * const { backend, failures } = await init({ prefer: ['webgpu', 'wasm', 'js'] });
 * console.log(`running on ${backend.name}`, failures);
 */
export async function init(options: InitOptions = {}): Promise<InitResult> {
  for (const [name, factory] of Object.entries(options.backends ?? {})) {
    if (!registry.has(name)) registerBackend(name, factory);
  }
  const order = options.prefer ?? listBackends().map((b) => b.name);
  const failures: { name: string; reason: string }[] = [];
  for (const name of order) {
    const reg = registry.get(name);
    if (reg === undefined) {
      failures.push({ name, reason: `not registered (install @tessera/backend-${name} and call registerBackend)` });
      continue;
    }
    try {
      reg.instance ??= await reg.factory();
      setBackend(reg.instance);
      return { backend: reg.instance, failures };
    } catch (e) {
      failures.push({ name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  const detail = failures.map((f) => `${f.name}: ${f.reason}`).join('; ');
  throw new BackendError('init', order.length === 0 ? 'no backend is registered; register one (e.g. registerBackend("js", createJsBackend)) or pass { backends }' : `no backend could start (${detail})`);
}

/**
 * Makes a backend current: a Backend instance, or the name of one already initialised.
 * @example setBackend(await createJsBackend());
 */
export function setBackend(backend: string | Backend): Backend {
  if (typeof backend === 'string') {
    const reg = registry.get(backend);
    if (reg?.instance === undefined) {
      throw new BackendError('setBackend', `backend '${backend}' is ${reg ? 'registered but not initialised; call `await init({ prefer: [name] })`' : 'not registered'}`);
    }
    backend = reg.instance;
  }
  if (backend === null || typeof backend !== 'object' || typeof backend.kernels !== 'object' || typeof backend.storage !== 'object') {
    throw new ArgumentError('setBackend', 'expected a backend name or a Backend object');
  }
  engine.backend = backend;
  countsFor(backend);
  return backend;
}

/**
 * Copies a tensor to another backend (waiting for its data), returning a new tensor there.
 * The source stays valid.
 * @example const onGpu = await moveTo(x, webgpuBackend);
 */
export async function moveTo(x: Tensor, target: Backend | string): Promise<Tensor> {
  x.assertLive('moveTo');
  const backend = typeof target === 'string' ? registry.get(target)?.instance : target;
  if (backend === undefined) throw new BackendError('moveTo', `backend '${String(target)}' is not initialised`);
  const data = await x.data();
  return new Tensor(backend, backend.storage.upload(x.dtype, data), x.dtype, x.shape.slice());
}


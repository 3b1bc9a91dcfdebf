/**
 * The whole benchmark as a function: open every subject in its own process, run the kernel
 * workloads (interleaved across those processes), then the training workloads (one child
 * process per run), and return the results.
 */
import { cores, cpuIdle, loadAvg, machineInfo } from './env.js';
import type { KernelSubject } from './subjects/kernel-subject.js';
import { isolatedSubject, type IsolatedSubject } from './subjects/isolated.js';
import { findPython, pythonKernelSubjects, allThreads, type PythonFound } from './subjects/python.js';
import { TFJS_NODE_INFO } from './subjects/tfjs.js';
import { errorMessage } from './stats.js';
import type { MachineInfo, MeasureOptions, Results, SubjectInfo } from './types.js';
import { runKernelWorkloads, type KernelPlan } from './workloads/kernels.js';
import { runTrainingWorkloads, type TrainPlan, type TrainSubject } from './workloads/training.js';

export const ALL_GROUPS = ['matmul', 'elementwise', 'overhead', 'mlp', 'cnn'] as const;
export type Group = (typeof ALL_GROUPS)[number];

export interface BenchConfig {
  mode: MachineInfo['mode'];
  groups: ReadonlySet<Group>;
  /** Only these subject ids (default: all). Prefix match: `tessera` selects every backend. */
  subjects?: readonly string[];
  kernel: Omit<KernelPlan, 'groups'>;
  measure: Omit<MeasureOptions, 'log'>;
  train: Omit<TrainPlan, 'workloads'>;
  log: (line: string) => void;
  /** Wait before each row / training child until this share of the CPUs is idle (0..1). */
  waitIdle?: { minIdle: number; maxWaitSec: number };
}

export function quickConfig(log: (l: string) => void = console.log): BenchConfig {
  return {
    mode: 'quick',
    groups: new Set(ALL_GROUPS),
    kernel: { matmul: [64, 128, 256, 512, 1024], elementwise: [1e6, 1e7], overheadCount: 10_000 },
    measure: { warmup: 2, warmupSec: 0.3, samples: 5, minSampleSec: 0.03, budgetSec: 2 },
    train: {
      repeats: 1,
      trainN: 9600,
      testN: 10_000,
      batch: 32,
      warmupSteps: 2,
      mlpWarmupEpochs: 6,
      mlpWarmupMaxSec: 20,
      mlpTimedEpochs: 3,
      mlpTimedMaxSec: 10,
      cnnSteps: 5,
      cnnBudgetSec: 4,
      oneThreadVariants: false,
      cnnTrainN: 32 * 10,
      inferBatch: 1000,
      inferSamples1: 50,
      inferSamplesK: 5,
      timeoutSec: 300,
    },
    log,
  };
}

export function fullConfig(log: (l: string) => void = console.log): BenchConfig {
  const q = quickConfig(log);
  return {
    ...q,
    mode: 'full',
    kernel: { ...q.kernel, matmul: [64, 128, 256, 512, 1024, 2048] },
    measure: { warmup: 3, warmupSec: 1, samples: 15, minSampleSec: 0.1, budgetSec: 15 },
    train: { ...q.train, repeats: 3, warmupSteps: 5, cnnSteps: 20, cnnBudgetSec: 30, oneThreadVariants: true, cnnTrainN: 32 * 30, inferSamples1: 200, inferSamplesK: 20, timeoutSec: 900 },
  };
}

const WASM_FMA = {
  id: 'tessera-wasm-fma-1t',
  label: 'Tessera wasm (1 thr, FMA)',
  detail: '1 thread, relaxed-SIMD build (f32x4.relaxed_madd in the GEMM micro-kernel); this process only runs Node with --experimental-wasm-relaxed-simd, the default in Node 22+ and Chromium 114+',
};

const selected = (cfg: BenchConfig, id: string) => !cfg.subjects || cfg.subjects.some((s) => id.startsWith(s));

export async function runBench(cfg: BenchConfig): Promise<Results> {
  const t0 = Date.now();
  const machine = machineInfo(cfg.mode);
  if (cfg.mode !== 'smoke') machine.idleStart = await cpuIdle(1000);
  const notes: string[] = [];
  const log = cfg.log;
  const idleGate = cfg.waitIdle ? { ...cfg.waitIdle, waitedSec: 0 } : undefined;
  const l1 = machine.loadStart[0];
  const busy = machine.idleStart !== undefined ? machine.idleStart < 0.8 : l1 > cores() * 0.5;
  if (busy) {
    const what = machine.idleStart !== undefined ? `the CPUs were only ${(machine.idleStart * 100).toFixed(0)}% idle` : `the load average was ${l1.toFixed(2)} on ${cores()} cores`;
    notes.push(`At the start ${what}: other work shared the machine, so absolute numbers are low and spreads wide; the interleaving keeps the ratios within a row comparable.`);
  }
  const idle = machine.idleStart === undefined ? '' : `, CPU ${(machine.idleStart * 100).toFixed(0)}% idle`;
  log(`Tessera bench (${cfg.mode}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadStart.join(' ')}${idle}`);

  // ---- discovery: every Node subject is opened in its own subject server process
  const wantTessera = ['js', 'wasm', 'native', 'webgpu'].filter((b) => selected(cfg, `tessera-${b}`));
  const tessera = async (name: string, options?: { threads: number }) => {
    const suffix = options ? '-1t' : '';
    return isolatedSubject({ family: 'tessera', name, options }, { id: `tessera-${name}${suffix}`, label: `Tessera ${name}${options ? ' (1 thr)' : ''}`, kind: 'tessera' });
  };
  // Node 20 runs wasm without fused multiply-add unless started with a V8 flag (Node 22+ and
  // Chromium have it by default): this column shows the same 1-thread wasm backend where the
  // engine offers FMA, next to the default one.
  const wasmWithFma = async (): Promise<IsolatedSubject> => {
    const o = await isolatedSubject({ family: 'tessera', name: 'wasm', options: { threads: 1 } }, { ...WASM_FMA, kind: 'tessera' }, ['--experimental-wasm-relaxed-simd']);
    const ok = o.subject.info.status === 'ok' && o.tessera?.relaxedSimd === true;
    if (!ok) await o.subject.close?.();
    const detail = ok ? WASM_FMA.detail : `the relaxed-SIMD build did not load: ${o.subject.info.status === 'ok' ? 'not picked by the backend' : o.subject.info.detail}`;
    return { subject: { ...(ok ? o.subject : {}), info: { ...WASM_FMA, kind: 'tessera', status: ok ? 'ok' : 'unavailable', detail } } };
  };
  const opened: IsolatedSubject[] = [];
  for (const main of await Promise.all(wantTessera.map((name) => tessera(name)))) {
    opened.push(main);
    const t = main.tessera;
    // A backend on more than one thread also gets a 1-thread instance.
    if (t && main.subject.info.status === 'ok' && (t.threads ?? 1) > 1 && selected(cfg, `${main.subject.info.id}-1t`)) opened.push(await tessera(t.name, { threads: 1 }));
    if (t?.name === 'wasm' && !t.relaxedSimd && selected(cfg, WASM_FMA.id)) opened.push(await wasmWithFma());
  }
  const handles = opened.filter((o) => o.tessera).map((o) => ({ ...o.tessera!, info: o.subject.info }));
  const peers: Promise<IsolatedSubject>[] = [];
  for (const name of ['cpu', 'wasm'] as const) {
    if (selected(cfg, `tfjs-${name}`)) peers.push(isolatedSubject({ family: 'tfjs', name }, { id: `tfjs-${name}`, label: `tfjs ${name}`, kind: 'peer', family: 'node' }));
  }
  // tfjs-node cannot be installed offline: a row with its reason whenever tfjs is measured.
  if (selected(cfg, 'tfjs-cpu') || selected(cfg, 'tfjs-wasm') || selected(cfg, 'tfjs-node')) peers.push(Promise.resolve({ subject: { info: TFJS_NODE_INFO } }));
  if (selected(cfg, 'jax-wasm')) peers.push(isolatedSubject({ family: 'jax' }, { id: 'jax-wasm', label: 'jax-js wasm', kind: 'peer', family: 'node' }));
  opened.push(...(await Promise.all(peers)));
  const kernelSubjects: KernelSubject[] = opened.map((o) => o.subject);
  let py: PythonFound = { ok: false, reason: 'not selected' };
  if (selected(cfg, 'torch-1t') || selected(cfg, 'torch-all') || selected(cfg, 'numpy')) {
    py = findPython();
    if (py.ok) machine.python = `${py.probe.python} (${py.cmd}): torch ${py.probe.torch}, numpy ${py.probe.numpy}, BLAS: ${py.probe.blas}`;
    for (const s of pythonKernelSubjects(py)) if (selected(cfg, s.info.id)) kernelSubjects.push(s);
  }
  const subjects: SubjectInfo[] = kernelSubjects.map((s) => s.info);
  for (const h of handles) {
    if (h.softwareGpu && !h.options) notes.push(`${h.info.label} runs on a software WebGPU adapter (see Subjects): there is no GPU here, so its rows measure a CPU emulation of a GPU, not GPU speed.`);
  }
  for (const s of subjects) log(`  ${s.status === 'ok' ? 'ok ' : '-- '} ${s.label.padEnd(26)} ${s.detail}`);
  if (py.ok && /reference BLAS/.test(py.probe.blas)) {
    notes.push(
      `PyTorch and NumPy here link ${py.probe.blas} (torch BLAS_INFO=${py.probe.torch_blas_info}), not OpenBLAS/MKL: Debian's python3-torch/python3-numpy use the libblas.so.3 alternative, and no optimised BLAS is installed. Their matmul rows therefore show reference BLAS, not what a pip-installed PyTorch would reach.`,
    );
  }

  // ---- kernel workloads (1–3)
  const rows = [];
  const kGroups = new Set([...cfg.groups].filter((g) => g === 'matmul' || g === 'elementwise' || g === 'overhead'));
  if (kGroups.size) {
    rows.push(...(await runKernelWorkloads(kernelSubjects, { ...cfg.kernel, groups: kGroups }, { ...cfg.measure, log, idleGate })));
  }
  for (const s of kernelSubjects) {
    try {
      await s.close?.();
    } catch (e) {
      notes.push(`closing ${s.info.id}: ${errorMessage(e)}`);
    }
  }

  // ---- training workloads (4–7)
  const workloads = (['mlp', 'cnn'] as const).filter((w) => cfg.groups.has(w));
  if (workloads.length) {
    const trainSubjects: TrainSubject[] = [];
    for (const h of handles) if (selected(cfg, h.info.id) && (cfg.train.oneThreadVariants || !h.options)) trainSubjects.push({ info: h.info, runner: 'node', tessera: { name: h.name, pkg: h.pkg, entry: h.entry, options: h.options } });
    for (const s of subjects) {
      if (s.id === 'tfjs-cpu' || s.id === 'tfjs-wasm' || s.id === 'jax-wasm') trainSubjects.push({ info: s, runner: 'node' });
      if (s.id === 'torch-1t') trainSubjects.push({ info: s, runner: 'python', threads: 1 });
      if (s.id === 'torch-all') trainSubjects.push({ info: s, runner: 'python', threads: allThreads() });
    }
    rows.push(...(await runTrainingWorkloads(trainSubjects, { ...cfg.train, workloads }, py, log, notes, idleGate)));
  }

  // Every available subject gets a cell in every row ("n/a" where it offers no such workload).
  const trainGroups = new Set(['mlp', 'cnn', 'inference', 'memory']);
  for (const row of rows) {
    for (const s of subjects) {
      if (s.status !== 'ok' || row.cells[s.id]) continue;
      const skipped = trainGroups.has(row.group) && s.kind === 'tessera' && s.id.endsWith('-1t') && !cfg.train.oneThreadVariants;
      row.cells[s.id] = { error: skipped ? 'skipped' : 'n/a' };
    }
  }
  machine.loadEnd = loadAvg();
  if (cfg.mode !== 'smoke') machine.idleEnd = await cpuIdle(1000);
  machine.durationSec = (Date.now() - t0) / 1000;
  if (idleGate) machine.waitIdle = { minIdle: idleGate.minIdle, waitedSec: Math.round(idleGate.waitedSec) };
  return { machine, subjects, rows, notes };
}

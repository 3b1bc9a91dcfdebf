/** Shared shapes of the harness: subjects, measurements, rows and the results file. */

/** Who is measured: a Tessera backend or a peer framework. */
export interface SubjectInfo {
  /** Stable id, used as the column key (`tessera-js`, `tfjs-cpu`, `torch-1t`, ...). */
  id: string;
  /** Column header. */
  label: string;
  kind: 'tessera' | 'peer';
  /** Peers only: `node` (runs in Node) or `python` (torch/numpy). */
  family?: 'node' | 'python';
  /** `ok`, or why this subject has no numbers (not installed, failed to initialise, ...). */
  status: 'ok' | 'unavailable';
  /** Version, threads, BLAS, or the reason it is unavailable. */
  detail: string;
}

/** A median with its spread over the samples (already in the row's unit). */
export interface Stat {
  median: number;
  min: number;
  max: number;
  /** Number of samples. */
  n: number;
}

/** One subject's result in one row. */
export interface Cell {
  stat?: Stat;
  /** Why there is no number: `n/a` (workload not offered), an error message, ... */
  error?: string;
  /** Extra information (repetitions per sample, ...). */
  note?: string;
}

export type Better = 'higher' | 'lower';

export interface Row {
  /** Stable id, e.g. `matmul/512`. */
  id: string;
  /** Workload group: matmul, elementwise, overhead, mlp, cnn, inference, memory. */
  group: string;
  /** Human label, e.g. `matmul 512³`. */
  label: string;
  unit: string;
  better: Better;
  cells: Record<string, Cell>;
  /** CPU idle share measured just before the row (with --wait-idle). */
  idleBefore?: number;
}

/** Machine and run description written in the header. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  platform: string;
  totalMemGiB: number;
  loadStart: [number, number, number];
  loadEnd?: [number, number, number];
  /** Idle share of all CPUs over 1 s before and after the run (/proc/stat). */
  idleStart?: number;
  idleEnd?: number;
  date: string;
  mode: 'quick' | 'full' | 'smoke';
  commit?: string;
  python?: string;
  durationSec?: number;
  /** With --wait-idle: the threshold and the seconds spent waiting in all. */
  waitIdle?: { minIdle: number; waitedSec: number };
}

export interface Results {
  machine: MachineInfo;
  subjects: SubjectInfo[];
  rows: Row[];
  /** Anything that went wrong outside a single cell. */
  notes: string[];
}

/** Options shared by the measuring loops. */
export interface MeasureOptions {
  /** Warm-up runs per subject before sampling (each at least one repetition). */
  warmup: number;
  /**
   * After the warm-up runs, keep running the sized sample until this much time was spent
   * warming (seconds, capped at a third of the budget): JIT-compiled framework code (every
   * Node subject) reaches its steady state only after thousands of calls, and each subject
   * has its own process, so nothing else warms it.
   */
  warmupSec: number;
  /** Samples per subject (the interleaved rounds). */
  samples: number;
  /** Each sample repeats the operation until it lasts at least this long (seconds). */
  minSampleSec: number;
  /** Soft time budget of one subject in one row (seconds): fewer samples (at least 3) past it. */
  budgetSec: number;
  /** Logs progress lines. */
  log: (line: string) => void;
  /** With --wait-idle: wait for idle CPUs before each row / training child. */
  idleGate?: import('./env.js').IdleGate;
}

/** What a subject offers for the kernel workloads (1–3). */
import type { Prepared } from '../measure.js';
import type { SubjectInfo } from '../types.js';

export type ElementwiseKind = 'add' | 'chain';

/**
 * A subject of the in-process kernel workloads. A method that is missing means "not offered"
 * (the cell says n/a); a method that throws gives a cell with the reason.
 */
export interface KernelSubject {
  info: SubjectInfo;
  /** float32 `n×n · n×n`. */
  matmul?(n: number): Promise<Prepared>;
  /**
   * `add`: `a + b`; `chain`: `relu((a + b) · a − b) · 0.5` (5 ops), on `n` float32 elements.
   */
  elementwise?(kind: ElementwiseKind, n: number): Promise<Prepared>;
  /** `count` dependent 1-element adds; with `autograd`, under the framework's gradient tape. */
  overhead?(autograd: boolean, count: number): Promise<Prepared>;
  close?(): void | Promise<void>;
}

/** Deterministic uniform [0, 1) float32 data (mulberry32), the same for every subject. */
export function uniformData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** Runs `fn` with console.warn/console.log lines matching `pattern` swallowed. */
export async function quietly<T>(pattern: RegExp, fn: () => Promise<T>): Promise<T> {
  const { warn, log } = console;
  const filter =
    (orig: (...a: unknown[]) => void) =>
    (...a: unknown[]) => {
      if (a.some((x) => typeof x === 'string' && pattern.test(x))) return;
      orig(...a);
    };
  console.warn = filter(warn);
  console.log = filter(log);
  try {
    return await fn();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

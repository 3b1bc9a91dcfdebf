/**
 * The interleaved measuring loop of the kernel workloads: every subject of a row is prepared,
 * warmed up, then sampled in rounds A, B, C, A, B, C, ... so that load from elsewhere on the
 * machine spreads over all of them instead of biasing one.
 */
import { errorMessage, summarize } from './stats.js';
import type { Cell, MeasureOptions } from './types.js';

/** A workload ready to run on one subject. */
export interface Prepared {
  /**
   * Runs the operation `reps` times and waits until the work is done; returns the elapsed
   * seconds as measured by the subject itself (Python subjects time themselves).
   */
  run(reps: number): Promise<number>;
  dispose(): void | Promise<void>;
}

export interface Entry {
  id: string;
  /** Returns the prepared workload, or throws (the cell then holds the reason). */
  prepare: () => Promise<Prepared>;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Measures one row. `toValue(secondsPerRep)` converts to the row's unit. Returns one cell per
 * entry: median and min–max over the samples, or the reason it failed.
 */
export async function measureInterleaved(
  entries: readonly Entry[],
  toValue: (secPerRep: number) => number,
  opts: MeasureOptions,
): Promise<Record<string, Cell>> {
  const cells: Record<string, Cell> = {};
  const live: { id: string; p: Prepared; reps: number; target: number; values: number[] }[] = [];
  for (const e of entries) {
    try {
      const p = await e.prepare();
      live.push({ id: e.id, p, reps: 1, target: opts.samples, values: [] });
    } catch (err) {
      cells[e.id] = { error: errorMessage(err) };
    }
  }
  const drop = async (id: string, err: unknown) => {
    const i = live.findIndex((l) => l.id === id);
    if (i < 0) return;
    cells[id] = { error: errorMessage(err) };
    try {
      await live[i].p.dispose();
    } catch {
      /* already failing */
    }
    live.splice(i, 1);
  };

  // Warm-up: at least one run each, more while cheap; the last one sizes the samples.
  for (const l of [...live]) {
    try {
      let perRep = Infinity;
      let spent = 0;
      for (let w = 0; w < Math.max(1, opts.warmup); w++) {
        gc?.();
        const t = await l.p.run(1);
        perRep = t;
        spent += t;
        if (spent > opts.budgetSec / 3) break;
      }
      l.reps = Math.max(1, Math.ceil(opts.minSampleSec / Math.max(perRep, 1e-9)));
      const perSample = l.reps * perRep;
      l.target = Math.max(Math.min(3, opts.samples), Math.min(opts.samples, Math.floor(opts.budgetSec / Math.max(perSample, 1e-9))));
      // Warm the chosen repetition count (JITs that specialise on loop length), and keep
      // warming until warmupSec is spent.
      const warmFor = Math.min(opts.warmupSec, opts.budgetSec / 3);
      if (l.reps > 1 && perSample < opts.budgetSec / 4) spent += await l.p.run(l.reps);
      while (spent < warmFor) spent += await l.p.run(l.reps);
    } catch (err) {
      await drop(l.id, err);
    }
  }

  const rounds = Math.max(0, ...live.map((l) => l.target));
  for (let r = 0; r < rounds; r++) {
    for (const l of [...live]) {
      if (l.values.length >= l.target) continue;
      try {
        gc?.();
        const t = await l.p.run(l.reps);
        l.values.push(toValue(t / l.reps));
      } catch (err) {
        await drop(l.id, err);
      }
    }
  }
  for (const l of live) {
    cells[l.id] = { stat: summarize(l.values), note: `${l.reps} rep/sample` };
    try {
      await l.p.dispose();
    } catch (err) {
      opts.log(`  dispose failed for ${l.id}: ${errorMessage(err)}`);
    }
  }
  return cells;
}

/** Times `fn` (sync or async) `reps` times with a monotonic clock; seconds. */
export async function timeReps(reps: number, fn: () => unknown, done?: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  if (done) {
    const r = done();
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

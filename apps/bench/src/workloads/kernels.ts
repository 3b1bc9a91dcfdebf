/**
 * Kernel workloads 1–3, run in this process on every available subject, interleaved:
 * float32 matmul (GFLOP/s), elementwise add and a 5-op chain (GB/s), per-op overhead of a
 * 1-element add with and without autograd (µs/op).
 */
import { waitForIdle } from '../env.js';
import { measureInterleaved, type Entry, type Prepared } from '../measure.js';
import type { KernelSubject } from '../subjects/kernel-subject.js';
import type { Cell, MeasureOptions, Row } from '../types.js';

export interface KernelPlan {
  matmul: number[];
  elementwise: number[];
  overheadCount: number;
  /** Subset of 'matmul' | 'elementwise' | 'overhead'. */
  groups: ReadonlySet<string>;
}

const fmtCount = (n: number) => (n >= 1e6 && Number.isInteger(Math.log10(n)) ? `1e${Math.log10(n)}` : n.toLocaleString('en-US'));

async function row(
  subjects: readonly KernelSubject[],
  base: Omit<Row, 'cells'>,
  pick: (s: KernelSubject) => (() => Promise<Prepared>) | undefined,
  toValue: (sec: number) => number,
  opts: MeasureOptions,
): Promise<Row> {
  const cells: Record<string, Cell> = {};
  const entries: Entry[] = [];
  for (const s of subjects) {
    if (s.info.status !== 'ok') continue;
    const prep = pick(s);
    if (!prep) cells[s.info.id] = { error: 'n/a' };
    else entries.push({ id: s.info.id, prepare: prep });
  }
  const idleBefore = await waitForIdle(opts.idleGate);
  const t0 = Date.now();
  Object.assign(cells, await measureInterleaved(entries, toValue, opts));
  const r: Row = { ...base, cells, ...(idleBefore !== undefined ? { idleBefore } : {}) };
  opts.log(`  ${base.label.padEnd(34)} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

export async function runKernelWorkloads(subjects: readonly KernelSubject[], plan: KernelPlan, opts: MeasureOptions): Promise<Row[]> {
  const rows: Row[] = [];
  if (plan.groups.has('matmul')) {
    opts.log('matmul (float32, n×n · n×n)');
    for (const n of plan.matmul) {
      rows.push(
        await row(
          subjects,
          { id: `matmul/${n}`, group: 'matmul', label: `matmul ${n}³`, unit: 'GFLOP/s', better: 'higher' },
          (s) => s.matmul && (() => s.matmul!(n)),
          (sec) => (2 * n ** 3) / sec / 1e9,
          opts,
        ),
      );
    }
  }
  if (plan.groups.has('elementwise')) {
    opts.log('elementwise (float32; GB/s counts 12 bytes/element: read a, b, write the result)');
    for (const kind of ['add', 'chain'] as const) {
      for (const n of plan.elementwise) {
        rows.push(
          await row(
            subjects,
            {
              id: `elementwise/${kind}/${n}`,
              group: 'elementwise',
              label: kind === 'add' ? `add ${fmtCount(n)}` : `5-op chain ${fmtCount(n)}`,
              unit: 'GB/s',
              better: 'higher',
            },
            (s) => s.elementwise && (() => s.elementwise!(kind, n)),
            (sec) => (12 * n) / sec / 1e9,
            opts,
          ),
        );
      }
    }
  }
  if (plan.groups.has('overhead')) {
    const c = plan.overheadCount;
    opts.log(`per-op overhead (${c.toLocaleString('en-US')} dependent 1-element adds)`);
    for (const autograd of [false, true]) {
      rows.push(
        await row(
          subjects,
          {
            id: `overhead/${autograd ? 'autograd' : 'plain'}`,
            group: 'overhead',
            label: autograd ? '1-elem add, under autograd (fwd+bwd)' : '1-elem add, no autograd',
            unit: 'µs/op',
            better: 'lower',
          },
          (s) => s.overhead && (() => s.overhead!(autograd, c)),
          (sec) => (sec / c) * 1e6,
          opts,
        ),
      );
    }
  }
  return rows;
}

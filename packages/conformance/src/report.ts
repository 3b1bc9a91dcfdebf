/**
 * Summaries of a run: per-op and per-kernel counts, the JSON report the runner writes, the
 * one-line console summary, and the Markdown kernel × backend coverage table.
 * @module
 */
import { FUSED_KERNELS, kernelOf, REQUIRED_KERNELS } from './kernels.js';
import type { CaseResult, CaseStatus } from './types.js';

/** Counts of cases by outcome (a case counts once: its worse mode decides). */
export interface Counts {
  cases: number;
  pass: number;
  fail: number;
  xfail: number;
  unexpectedPass: number;
  skipped: number;
}

/** What `reports/conformance-<backend>.json` holds. */
export interface ConformanceReport {
  backend: string;
  /** ISO date of the run. */
  date: string;
  totals: Counts;
  /** Per mode, counting each case once in each. */
  modes: Record<'fused' | 'unfused', Counts>;
  perOp: Record<string, Counts>;
  perKernel: Record<string, Counts>;
  failures: { id: string; mode: string; message: string }[];
}

/** A skipped case (its capabilities do not match the backend). */
export interface SkippedCase {
  id: string;
  op: string;
  kernels: readonly string[];
}

const empty = (): Counts => ({ cases: 0, pass: 0, fail: 0, xfail: 0, unexpectedPass: 0, skipped: 0 });
const RANK: Record<CaseStatus, number> = { pass: 0, xfail: 1, 'unexpected-pass': 2, fail: 3 };

function add(c: Counts, s: CaseStatus | 'skipped'): void {
  c.cases++;
  if (s === 'pass') c.pass++;
  else if (s === 'fail') c.fail++;
  else if (s === 'xfail') c.xfail++;
  else if (s === 'unexpected-pass') c.unexpectedPass++;
  else c.skipped++;
}

/**
 * Builds the report of one backend's run from the runner's results.
 * @example
 * const report = summarize('js', results);
 * report.totals.fail; // 0
 */
export function summarize(backend: string, results: readonly CaseResult[], skipped: readonly SkippedCase[] = []): ConformanceReport {
  const worst = new Map<string, CaseResult>();
  const modes = { fused: empty(), unfused: empty() };
  for (const r of results) {
    add(modes[r.mode], r.status);
    const w = worst.get(r.id);
    if (!w || RANK[r.status] > RANK[w.status]) worst.set(r.id, r);
  }
  const totals = empty();
  const perOp: Record<string, Counts> = {};
  const perKernel: Record<string, Counts> = {};
  const tally = (op: string, kernels: readonly string[], s: CaseStatus | 'skipped') => {
    add(totals, s);
    add((perOp[op] ??= empty()), s);
    for (const k of new Set(kernels.map((x) => kernelOf(x as never)))) add((perKernel[k] ??= empty()), s);
  };
  for (const r of worst.values()) tally(r.op, r.kernels, r.status);
  for (const s of skipped) tally(s.op, s.kernels, 'skipped');
  const failures = results
    .filter((r) => r.status === 'fail' || r.status === 'unexpected-pass')
    .map((r) => ({ id: r.id, mode: r.mode, message: r.message ?? '' }));
  return { backend, date: new Date().toISOString(), totals, modes, perOp, perKernel, failures };
}

/**
 * The one-line summary the runner prints per backend.
 * @example
 * summaryLine(report); // 'conformance js: 1210 cases, 1204 pass, 0 fail, 6 xfail, 0 unexpected pass, 0 skipped'
 */
export function summaryLine(r: ConformanceReport): string {
  const t = r.totals;
  return `conformance ${r.backend}: ${t.cases} cases, ${t.pass} pass, ${t.fail} fail, ${t.xfail} xfail, ` +
    `${t.unexpectedPass} unexpected pass, ${t.skipped} skipped`;
}

/**
 * A Markdown table, one row per kernel (required, then fused) and one column per backend,
 * each cell `passed/cases` (with `+n xfail` where a backend lists expected failures).
 * @example
 * coverageTable([jsReport, wasmReport]);
 * // | kernel | js | wasm |
 * // |---|---|---|
 * // | fill | 58/58 | 58/58 |
 */
export function coverageTable(reports: readonly ConformanceReport[]): string {
  const kernels = [...REQUIRED_KERNELS, ...FUSED_KERNELS] as string[];
  const head = `| kernel | ${reports.map((r) => r.backend).join(' | ')} |`;
  const rule = `|---|${reports.map(() => '---').join('|')}|`;
  const rows = kernels.map((k) => {
    const cells = reports.map((r) => {
      const c = r.perKernel[k];
      if (!c) return '—';
      const ran = c.cases - c.skipped;
      return `${c.pass}/${ran}${c.xfail ? ` +${c.xfail} xfail` : ''}${c.fail + c.unexpectedPass ? ` (${c.fail + c.unexpectedPass} failing)` : ''}`;
    });
    return `| ${FUSED_KERNELS.includes(k as never) ? `${k} (fused)` : k} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

/**
 * Writes `conformance-<backend>.json` into `dir` (Node only; loaded lazily so browsers never
 * import `node:fs`). Returns the path written.
 * @example
 * await writeReport(report, 'reports');
 */
export async function writeReport(r: ConformanceReport, dir: string): Promise<string> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `conformance-${r.backend}.json`);
  await fs.writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

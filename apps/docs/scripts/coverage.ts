/**
 * The op x backend coverage table of the Backends guide, generated from the conformance
 * database (`@tessera/conformance`): for every public op, how many cases the database holds
 * and, per backend, how many of them that backend is expected to pass (cases matched by its
 * expect file are known failures, cases needing a capability it lacks are skipped). When
 * conformance reports from a real run exist (`TESSERA_CONFORMANCE_REPORT=1` writes
 * `reports/conformance-<backend>.json`), their measured kernel table is added.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileExpect, coverageTable, listCases, type ConformanceReport, type ExpectFile } from '@tessera/conformance';

/** The backends of the table and what each lacks (from their `caps`). */
const BACKENDS: { name: string; syncRead: boolean }[] = [
  { name: 'js', syncRead: true },
  { name: 'wasm', syncRead: true },
  { name: 'native', syncRead: true },
  { name: 'webgpu', syncRead: false },
];

async function expectFile(repo: string, backend: string): Promise<ExpectFile> {
  const file = join(repo, 'packages', `backend-${backend}`, 'test/conformance.expect.ts');
  if (!existsSync(file)) return {};
  const mod = (await import(pathToFileURL(file).href)) as { expect?: ExpectFile };
  return mod.expect ?? {};
}

export async function coverageMarkdown(repo: string): Promise<string> {
  const cases = listCases();
  const ops = new Map<string, { family: string; kind: string; cases: string[]; needsSync: Set<string> }>();
  for (const c of cases) {
    const e = ops.get(c.spec.name) ?? { family: c.family, kind: c.spec.kind, cases: [], needsSync: new Set<string>() };
    e.cases.push(c.id);
    if (c.def.requires?.syncRead) e.needsSync.add(c.id);
    ops.set(c.spec.name, e);
  }
  const matchers = await Promise.all(BACKENDS.map(async (b) => compileExpect(await expectFile(repo, b.name))));
  const lines = [
    `The conformance database holds **${cases.length} cases** over **${ops.size} ops**; every backend runs all of them, twice (fused kernels on and off). A cell is *expected to pass / cases that run*; *skip* counts cases that need a capability the backend lacks (synchronous reads); *xfail* counts known gaps listed in the backend's expect file (none at present).`,
    '',
    `| op | family | kind | cases | ${BACKENDS.map((b) => b.name).join(' | ')} |`,
    `|---|---|---|---:|${BACKENDS.map(() => '---:').join('|')}|`,
  ];
  for (const [name, e] of [...ops].sort((a, b) => a[1].family.localeCompare(b[1].family) || a[0].localeCompare(b[0]))) {
    const cells = BACKENDS.map((b, i) => {
      const run = e.cases.filter((id) => b.syncRead || !e.needsSync.has(id));
      const skipped = e.cases.length - run.length;
      const xfail = run.filter((id) => matchers[i]!.match(id, 'fused') || matchers[i]!.match(id, 'unfused')).length;
      return `${run.length - xfail}/${run.length}${xfail ? ` +${xfail} xfail` : ''}${skipped ? ` (${skipped} skip)` : ''}`;
    });
    lines.push(`| \`${name}\` | ${e.family} | ${e.kind} | ${e.cases.length} | ${cells.join(' | ')} |`);
  }
  const reportsDir = join(repo, 'reports');
  const reports: ConformanceReport[] = existsSync(reportsDir)
    ? readdirSync(reportsDir).filter((f) => /^conformance-.+\.json$/.test(f)).map((f) => JSON.parse(readFileSync(join(reportsDir, f), 'utf8')) as ConformanceReport)
    : [];
  if (reports.length) {
    lines.push('', `### Measured (kernel x backend, from the last run's reports: ${reports.map((r) => `${r.backend} ${r.date.slice(0, 10)}`).join(', ')})`, '', coverageTable(reports));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `describeConformance`: the whole op database as vitest tests for one backend.
 * @module
 */
import type { Backend } from '@tessera/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { loadCoreApi, type CoreApi } from './api.js';
import { buildCase, listCases } from './cases.js';
import { runCase, type Mode } from './execute.js';
import { compileExpect } from './expect.js';
import { lifecycleChecks } from './lifecycle.js';
import { summarize, summaryLine, writeReport, type SkippedCase } from './report.js';
import type { CaseInfo, CaseResult, ExpectFile, OpSpec } from './types.js';

/** Options of {@link describeConformance}. */
export interface ConformanceOptions {
  /** Expected failures: case-id globs to reasons. An expected failure that passes fails the run. */
  expect?: ExpectFile;
  /** Run only cases whose id matches. */
  filter?: RegExp;
  /** Replace the built-in op database (for testing the runner itself). */
  specs?: readonly OpSpec[];
  /** Per-test timeout in ms (default 30 000). */
  timeout?: number;
}

const MODES: readonly Mode[] = ['fused', 'unfused'];

/**
 * Registers the conformance suite for a backend with vitest: a `describe(name)` holding one
 * `it` per case (grouped by family and op), each run with fused kernels on and off, plus
 * lifecycle checks. The backend is created in `beforeAll` and made current with core's
 * `setBackend`; the previous backend is restored in `afterAll`.
 * @example
 * import { describeConformance } from '@tessera/conformance';
 * import { createWasmBackend } from '../src/index.js';
 * import { expect } from './conformance.expect.js';
 * describeConformance('wasm', createWasmBackend, { expect });
 */
export function describeConformance(
  name: string,
  createBackend: () => Promise<Backend>,
  options: ConformanceOptions = {},
): void {
  const cases = listCases({ filter: options.filter, specs: options.specs });
  const matcher = compileExpect(options.expect);
  const results: CaseResult[] = [];
  const skipped: SkippedCase[] = [];
  const timeout = options.timeout ?? 30_000;
  const ctx = { api: null as CoreApi | null, backend: null as Backend | null, previous: null as Backend | null };

  describe(name, () => {
    beforeAll(async () => {
      ctx.api = await loadCoreApi();
      try {
        ctx.previous = ctx.api.getBackend();
      } catch {
        ctx.previous = null;
      }
      ctx.backend = await createBackend();
      ctx.api.setBackend(ctx.backend);
    });

    afterAll(async () => {
      const report = summarize(name, results, skipped);
      console.log(summaryLine(report));
      const stale = matcher.unused();
      if (stale.length && !options.filter) console.log(`conformance ${name}: expect entries matching no case: ${stale.join(', ')}`);
      const dir = typeof process !== 'undefined' ? process.env?.TESSERA_CONFORMANCE_REPORT : undefined;
      if (dir) await writeReport(report, dir === '1' || dir === 'true' ? 'reports' : dir);
      if (ctx.previous && ctx.api) ctx.api.setBackend(ctx.previous);
      ctx.backend?.dispose();
    });

    for (const [family, ops] of groupCases(cases)) {
      describe(family, () => {
        for (const [op, list] of ops) {
          describe(op, () => {
            for (const c of list) {
              it(c.id, async (t) => {
                const { api, backend } = ctx;
                if (!api || !backend) throw new Error('conformance: the backend did not start');
                const req = c.def.requires;
                if (req?.syncRead !== undefined && req.syncRead !== backend.caps.syncRead) {
                  skipped.push({ id: c.id, op: c.spec.name, kernels: c.kernels });
                  t.skip();
                  return;
                }
                await runBothModes(api, backend, c, matcher, results);
              }, timeout);
            }
          });
        }
      });
    }

    describe('lifecycle', () => {
      for (const [label, check] of Object.entries(lifecycleChecks)) {
        it(`lifecycle/${label}`, async () => {
          if (!ctx.api || !ctx.backend) throw new Error('conformance: the backend did not start');
          await check(ctx.api, ctx.backend, createBackend);
        }, timeout);
      }
    });
  });
}

/** Runs a case in both modes, records results, and throws on any failure or unexpected pass. */
async function runBothModes(
  api: CoreApi, backend: Backend, c: CaseInfo, matcher: ReturnType<typeof compileExpect>, results: CaseResult[],
): Promise<void> {
  const built = buildCase(c);
  const problems: string[] = [];
  for (const mode of MODES) {
    const expected = matcher.match(c.id, mode);
    let error: string | null = null;
    try {
      await runCase(api, backend, c, built, mode);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const status = error ? (expected ? 'xfail' : 'fail') : expected ? 'unexpected-pass' : 'pass';
    results.push({ id: c.id, op: c.spec.name, family: c.family, kernels: c.kernels, mode, status, message: error ?? undefined });
    if (status === 'fail') problems.push(`[${mode}] ${error}`);
    if (status === 'unexpected-pass') {
      problems.push(`[${mode}] unexpected pass: '${expected!.glob}' (${expected!.reason}) expects a failure; remove or narrow the entry`);
    }
  }
  if (problems.length) throw new Error(`${c.id}\n${problems.join('\n')}`);
}

/** Cases by family, then by op, in database order. */
function groupCases(cases: readonly CaseInfo[]): Map<string, Map<string, CaseInfo[]>> {
  const out = new Map<string, Map<string, CaseInfo[]>>();
  for (const c of cases) {
    const fam = out.get(c.family) ?? new Map<string, CaseInfo[]>();
    out.set(c.family, fam);
    const list = fam.get(c.spec.name) ?? [];
    fam.set(c.spec.name, list);
    list.push(c);
  }
  return out;
}

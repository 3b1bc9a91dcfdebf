import { describe, expect, it } from 'vitest';
import { coverageTable, summarize, summaryLine } from '../src/report.js';
import type { CaseResult } from '../src/types.js';
import { FUSED_KERNELS, REQUIRED_KERNELS } from '../src/kernels.js';

const r = (id: string, mode: 'fused' | 'unfused', status: CaseResult['status'], kernels: string[]): CaseResult => ({
  id, op: id.split('/')[0], family: 'elementwise', kernels: kernels as never, mode, status,
});

describe('reports', () => {
  const results = [
    r('exp/float32/a', 'fused', 'pass', ['unary:exp']),
    r('exp/float32/a', 'unfused', 'pass', ['unary:exp']),
    r('softmax/float32/b', 'fused', 'xfail', ['softmax', 'reduce:max']),
    r('softmax/float32/b', 'unfused', 'pass', ['softmax', 'reduce:max']),
    r('add/float32/c', 'fused', 'fail', ['binary:add']),
    r('add/float32/c', 'unfused', 'fail', ['binary:add']),
  ];

  it('counts each case once, by its worse mode', () => {
    const rep = summarize('js', results, [{ id: 'gather/float32/oob', op: 'gather', kernels: ['gather'] }]);
    expect(rep.totals).toEqual({ cases: 4, pass: 1, fail: 1, xfail: 1, unexpectedPass: 0, skipped: 1 });
    expect(rep.perKernel.unary.pass).toBe(1);
    expect(rep.perKernel.softmax.xfail).toBe(1);
    expect(rep.perKernel.reduce.xfail).toBe(1);
    expect(rep.perOp.add.fail).toBe(1);
    expect(rep.modes.unfused.pass).toBe(2);
    expect(rep.failures).toHaveLength(2);
    expect(summaryLine(rep)).toBe('conformance js: 4 cases, 1 pass, 1 fail, 1 xfail, 0 unexpected pass, 1 skipped');
  });

  it('renders a kernel × backend Markdown table', () => {
    const t = coverageTable([summarize('js', results), summarize('wasm', results.slice(0, 2))]);
    const lines = t.split('\n');
    expect(lines[0]).toBe('| kernel | js | wasm |');
    expect(lines[1]).toBe('|---|---|---|');
    expect(t).toContain('| unary | 1/1 | 1/1 |');
    expect(t).toContain('| softmax (fused) | 0/1 +1 xfail | — |');
    expect(t).toContain('| binary | 0/1 (1 failing) | — |');
    expect(lines).toHaveLength(2 + REQUIRED_KERNELS.length + FUSED_KERNELS.length); // one row per kernel
  });
});

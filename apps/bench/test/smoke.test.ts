/**
 * Keeps the harness working: every workload once, at tiny size, on Tessera's js backend and
 * one peer (tfjs cpu), through the same code as `pnpm bench` (discovery, interleaved
 * measuring, child processes with maxRSS, Markdown/JSON/SVG output).
 */
import { describe, expect, it } from 'vitest';
import { ALL_GROUPS, runBench, type BenchConfig } from '../src/bench.js';
import { ratios, toMarkdown, toSvg } from '../src/report.js';
import { findPython, pythonInfos } from '../src/subjects/python.js';
import { TFJS_NODE_INFO } from '../src/subjects/tfjs.js';

const lines: string[] = [];
const config: BenchConfig = {
  mode: 'smoke',
  groups: new Set(ALL_GROUPS),
  subjects: ['tessera-js', 'tfjs-cpu'],
  kernel: { matmul: [16], elementwise: [1000], overheadCount: 20 },
  measure: { warmup: 1, warmupSec: 0, samples: 1, minSampleSec: 0, budgetSec: 0.2 },
  train: {
    repeats: 1,
    trainN: 64,
    testN: 64,
    batch: 32,
    cnnBatch: 1,
    warmupSteps: 0,
    mlpWarmupEpochs: 1,
    mlpWarmupMaxSec: 0,
    mlpTimedEpochs: 2,
    mlpTimedMaxSec: 60,
    cnnSteps: 1,
    cnnBudgetSec: 0.1,
    oneThreadVariants: false,
    cnnTrainN: 4,
    inferBatch: 4,
    inferSamples1: 1,
    inferSamplesK: 1,
    skipBaseline: true,
    timeoutSec: 60,
  },
  log: (l) => lines.push(l),
};

describe('bench harness (smoke)', () => {
  it('runs every workload on tessera-js and tfjs-cpu and reports them', { timeout: 60_000 }, async () => {
    const t0 = Date.now();
    const res = await runBench(config);
    const ids = res.rows.map((r) => r.id);
    expect(ids).toEqual([
      'matmul/16',
      'elementwise/add/1000',
      'elementwise/chain/1000',
      'overhead/plain',
      'overhead/autograd',
      'mlp/epoch',
      'mlp/first-epoch',
      'mlp/accuracy',
      'inference/1',
      'inference/4',
      'cnn/step',
      'memory/mlp',
      'memory/cnn',
    ]);
    const subjects = res.subjects.filter((s) => s.status === 'ok').map((s) => s.id);
    expect(subjects).toEqual(['tessera-js', 'tfjs-cpu']);
    for (const row of res.rows) {
      for (const id of subjects) {
        const cell = row.cells[id];
        expect(cell?.error, `${row.id} on ${id}`).toBeUndefined();
        expect(cell?.stat?.median, `${row.id} on ${id}`).toBeGreaterThan(0);
      }
    }
    // tfjs-node is a row with its reason, not an error.
    expect(res.subjects.find((s) => s.id === 'tfjs-node')).toEqual(TFJS_NODE_INFO);

    const md = toMarkdown(res);
    expect(md).toContain('| workload | unit | Tessera js | tfjs cpu | best peer | Tessera js ÷ best |');
    expect(md).toMatch(/\| matmul 16³ \| GFLOP\/s \| [\d.]+/);
    expect(md).toContain(res.machine.cpu);
    const svg = toSvg(res);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('matmul 16³');
    expect(ratios(res).filter((r) => Number.isFinite(r.vsBest))).toHaveLength(res.rows.length);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('describes the Python rows whether or not torch is importable', () => {
    const infos = pythonInfos(findPython());
    for (const info of Object.values(infos)) {
      expect(info.detail.length).toBeGreaterThan(0);
      if (info.status === 'unavailable') expect(info.detail).toMatch(/^not installed/);
    }
  });
});

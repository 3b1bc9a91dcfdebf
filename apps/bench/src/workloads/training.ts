/**
 * Workloads 4–7: MNIST MLP epoch (samples/s, test accuracy), CNN training steps (samples/s),
 * MLP inference latency (batch 1 and batch 1,000) and the peak resident memory of each run.
 * Every run is its own child process (so its maxRSS is its own); the subjects take turns
 * (A, B, C, A, B, C …) when runs are repeated.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitForIdle, type IdleGate } from '../env.js';
import { mnistDir, writeMlpInit } from '../mnist.js';
import { appPath, nodeEntryArgs } from '../paths.js';
import { errorMessage, summarize } from '../stats.js';
import { threadEnv, TORCH_SCRIPT, type PythonFound } from '../subjects/python.js';
import type { TrainResult, TrainSpec, TrainWorkload } from '../train/spec.js';
import type { Cell, Row, SubjectInfo } from '../types.js';

export interface TrainPlan {
  workloads: readonly TrainWorkload[];
  /** Runs per subject and workload (interleaved). */
  repeats: number;
  trainN: number;
  testN: number;
  batch: number;
  /** CNN batch (default `batch`). */
  cnnBatch?: number;
  warmupSteps: number;
  /** MLP: at most this many warm-up epochs on a throwaway model (fewer once they stop getting faster), and their time cap. */
  mlpWarmupEpochs: number;
  mlpWarmupMaxSec: number;
  /** MLP: timed epochs (each on a fresh model), and their time cap (at least one runs). */
  mlpTimedEpochs: number;
  mlpTimedMaxSec: number;
  cnnSteps: number;
  /** CNN: timing stops once the timed steps took this long (at least one step). */
  cnnBudgetSec: number;
  /** Also train the 1-thread instances of multi-threaded Tessera backends. */
  oneThreadVariants: boolean;
  /** CNN training set size (only `warmup + steps` batches are used). */
  cnnTrainN: number;
  inferBatch: number;
  inferSamples1: number;
  inferSamplesK: number;
  /** Skip the no-framework baseline child (smoke test). */
  skipBaseline?: boolean;
  /** Kill a child after this many seconds. */
  timeoutSec: number;
}

export interface TrainSubject {
  info: SubjectInfo;
  /** How to start its child: a Node child (dist/child.js) or a Python one. */
  runner: 'node' | 'python';
  tessera?: TrainSpec['tessera'];
  threads?: number;
}

interface ChildOutcome {
  result?: TrainResult;
  error?: string;
}

export function runChildProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutSec: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: appPath() });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSec * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ error: `could not start ${cmd}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) {
        try {
          resolve({ result: JSON.parse(line.slice(7)) as TrainResult });
          return;
        } catch (e) {
          resolve({ error: `unreadable result: ${errorMessage(e)}` });
          return;
        }
      }
      if (timedOut) {
        resolve({ error: `timed out after ${timeoutSec} s` });
        return;
      }
      const lines = err.trim().split('\n');
      const errLine = lines.find((l) => l.startsWith('ERROR ')) ?? lines.filter((l) => /Error|error/.test(l))[0] ?? lines.pop() ?? '';
      resolve({ error: `exit ${signal ?? code}: ${errLine.replace(/^ERROR /, '').slice(0, 300)}` });
    });
  });
}

export async function runTrainingChild(subject: TrainSubject, spec: TrainSpec, py: PythonFound, timeoutSec: number): Promise<ChildOutcome> {
  if (subject.runner === 'python') {
    if (!py.ok) return { error: py.reason };
    return runChildProcess(py.cmd, [TORCH_SCRIPT, 'train', JSON.stringify(spec)], threadEnv(subject.threads ?? 1), timeoutSec);
  }
  let args: string[];
  try {
    args = nodeEntryArgs('child');
  } catch (e) {
    return { error: errorMessage(e) };
  }
  return runChildProcess(process.execPath, [...args, JSON.stringify(spec)], process.env, timeoutSec);
}

const MiB = (kib: number) => kib / 1024;

/**
 * Runs the training workloads for every subject and returns the rows (MLP epoch, accuracy,
 * CNN step, inference latencies, peak memory). `log` gets a line per child.
 */
export async function runTrainingWorkloads(
  subjects: readonly TrainSubject[],
  plan: TrainPlan,
  py: PythonFound,
  log: (line: string) => void,
  notes: string[],
  idleGate?: IdleGate,
): Promise<Row[]> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
  const initWeights = path.join(tmp, 'mlp-init.f32');
  writeMlpInit(initWeights);
  const dir = mnistDir();
  const rows: Row[] = [];
  const ok = subjects.filter((s) => s.info.status === 'ok');
  try {
    for (const workload of plan.workloads) {
      const base: Omit<TrainSpec, 'subject'> = {
        workload,
        mnistDir: dir,
        trainN: workload === 'mlp' ? plan.trainN : plan.cnnTrainN,
        testN: plan.testN,
        batch: workload === 'cnn' ? (plan.cnnBatch ?? plan.batch) : plan.batch,
        warmupSteps: plan.warmupSteps,
        mlpWarmupEpochs: plan.mlpWarmupEpochs,
        mlpWarmupMaxSec: plan.mlpWarmupMaxSec,
        mlpTimedEpochs: plan.mlpTimedEpochs,
        mlpTimedMaxSec: plan.mlpTimedMaxSec,
        steps: plan.cnnSteps,
        stepBudgetSec: plan.cnnBudgetSec,
        inferBatch: plan.inferBatch,
        inferSamples1: plan.inferSamples1,
        inferSamplesK: plan.inferSamplesK,
        initWeights: workload === 'mlp' ? initWeights : undefined,
        seed: 1,
      };
      log(workload === 'mlp' ? `MNIST MLP: up to ${plan.mlpWarmupEpochs} warm-up epochs (until they stop getting faster; at most ${plan.mlpWarmupMaxSec} s), then up to ${plan.mlpTimedEpochs} timed epochs (${plan.mlpTimedMaxSec} s) of ${plan.trainN.toLocaleString('en-US')} images, batch ${plan.batch} (child process per run)` : `MNIST CNN: up to ${plan.cnnSteps} training steps (${plan.cnnBudgetSec} s budget each), batch ${plan.cnnBatch ?? plan.batch}`);
      // Baseline: the same child without a framework.
      const baseline = plan.skipBaseline
        ? {}
        : await runTrainingChild({ info: { id: 'baseline', label: 'baseline', kind: 'peer', status: 'ok', detail: '' }, runner: 'node' }, { ...base, subject: 'baseline' }, py, plan.timeoutSec);
      if ('result' in baseline && baseline.result) notes.push(`${workload.toUpperCase()} memory baseline: a Node child that loads the same MNIST slice and no framework peaks at ${MiB(baseline.result.maxRssKiB).toFixed(0)} MiB.`);
      const outcomes = new Map<string, ChildOutcome[]>();
      for (let r = 0; r < plan.repeats; r++) {
        for (const s of ok) {
          await waitForIdle(idleGate);
          const t0 = Date.now();
          const o = await runTrainingChild(s, { ...base, subject: s.info.id, tessera: s.tessera }, py, plan.timeoutSec);
          const list = outcomes.get(s.info.id) ?? [];
          list.push(o);
          outcomes.set(s.info.id, list);
          const what = o.result
            ? workload === 'mlp'
              ? `${summarize(o.result.samplesPerSec ?? []).median.toFixed(0)} samples/s, acc ${((o.result.accuracy ?? 0) * 100).toFixed(1)}%`
              : `${summarize(o.result.stepSamplesPerSec ?? []).median.toFixed(1)} samples/s`
            : `error: ${o.error}`;
          log(`  ${s.info.label.padEnd(26)} run ${r + 1}/${plan.repeats}: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        }
      }
      const collect = (pick: (res: TrainResult) => number[] | number | undefined, scale = 1): Record<string, Cell> => {
        const cells: Record<string, Cell> = {};
        for (const s of ok) {
          const os_ = outcomes.get(s.info.id) ?? [];
          const vals: number[] = [];
          for (const o of os_) {
            const v = o.result ? pick(o.result) : undefined;
            if (Array.isArray(v)) vals.push(...v.map((x) => x * scale));
            else if (typeof v === 'number') vals.push(v * scale);
          }
          const note = os_.map((o) => o.result?.note).find(Boolean);
          if (vals.length) cells[s.info.id] = { stat: summarize(vals), ...(note ? { note } : {}) };
          else {
            const e = os_.find((o) => o.error)?.error;
            cells[s.info.id] = { error: e ?? 'n/a' };
          }
        }
        return cells;
      };
      if (workload === 'mlp') {
        const epoch = `(${plan.trainN.toLocaleString('en-US')} img, batch ${plan.batch})`;
        rows.push({ id: 'mlp/epoch', group: 'mlp', label: `MLP epoch ${epoch}, warm`, unit: 'samples/s', better: 'higher', cells: collect((x) => x.samplesPerSec) });
        rows.push({ id: 'mlp/first-epoch', group: 'mlp', label: `MLP first epoch in a fresh process ${epoch}`, unit: 'samples/s', better: 'higher', cells: collect((x) => x.firstEpochSamplesPerSec) });
        rows.push({ id: 'mlp/accuracy', group: 'mlp', label: 'MLP test accuracy after 1 epoch', unit: '%', better: 'higher', cells: collect((x) => x.accuracy, 100) });
        rows.push({ id: 'inference/1', group: 'inference', label: 'MLP inference, batch 1', unit: 'ms', better: 'lower', cells: collect((x) => x.latency1Ms) });
        rows.push({
          id: `inference/${plan.inferBatch}`,
          group: 'inference',
          label: `MLP inference, batch ${plan.inferBatch.toLocaleString('en-US')}`,
          unit: 'ms',
          better: 'lower',
          cells: collect((x) => x.latencyKMs),
        });
        rows.push({ id: 'memory/mlp', group: 'memory', label: 'peak RSS, MLP epoch run', unit: 'MiB', better: 'lower', cells: collect((x) => MiB(x.maxRssKiB)) });
      } else {
        rows.push({ id: 'cnn/step', group: 'cnn', label: `CNN training step (batch ${plan.cnnBatch ?? plan.batch})`, unit: 'samples/s', better: 'higher', cells: collect((x) => x.stepSamplesPerSec) });
        rows.push({ id: 'memory/cnn', group: 'memory', label: 'peak RSS, CNN steps run', unit: 'MiB', better: 'lower', cells: collect((x) => MiB(x.maxRssKiB)) });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // Memory rows last, after the throughput rows of every workload.
  return [...rows.filter((r) => r.group !== 'memory'), ...rows.filter((r) => r.group === 'memory')];
}

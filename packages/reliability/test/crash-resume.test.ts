/**
 * Crash safety: a training run (a child Node process with BackupAndRestore) is killed with
 * SIGKILL at seeded random points — by the parent between/within training steps, and by
 * itself in the middle of a backup file write (half the bytes on disk). After every kill the
 * backup on disk must be complete (loadModel reads it: JSON, CRC-32, weights, optimizer
 * state); the rerun resumes from it; and the final weights must be bit-identical (SHA-256)
 * to an uninterrupted run with the same seed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '@tessera/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounting, BACKENDS, type BackendName, openBackend, use } from './support/backends.js';
import { rng } from './support/models.js';

const CHILD = fileURLToPath(new URL('./fixtures/train-child.mjs', import.meta.url));
const TOTAL_STEPS = 48; // 6 epochs × 8 batches
const WRITES = 36; // 3 backups per epoch (batches 4 and 8, epoch end) × 2 files

interface Run {
  lines: string[];
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Runs the child; `killAtStep` makes the parent SIGKILL it as soon as it reports that step. */
function runChild(dir: string, opts: { killAtStep?: number; dieInWrite?: string; backend?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const argv = [CHILD, '--dir', dir, '--backend', opts.backend ?? 'js'];
    if (opts.dieInWrite) argv.push('--die-in-write', opts.dieInWrite);
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (opts.killAtStep !== undefined && line === `step ${opts.killAtStep}`) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`child failed (code ${code}):\n${err}`));
      else resolve({ lines, signal, code });
    });
  });
}

const counts = { runs: 0, kills: 0, killsInWrite: 0, resumes: 0 };
let scratch = '';

beforeAll(async () => {
  const { backend } = await openBackend('js');
  use(backend!);
  scratch = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  console.log(`[reliability] crash-resume: ${counts.runs} child runs, ${counts.kills} SIGKILLs survived (${counts.killsInWrite} in the middle of a backup write), ${counts.resumes} resumes`);
});

/** The backup after a kill is absent or complete: loadModel reads and checks all of it. */
async function expectCompleteBackup(dir: string): Promise<boolean> {
  if (!existsSync(join(dir, 'model.json'))) return false;
  const { backend } = await openBackend('js');
  use(backend!);
  const before = accounting(backend!);
  const m = await loadModel(dir);
  expect(m.compiled).not.toBeNull();
  m.dispose();
  expect(accounting(backend!)).toEqual(before);
  return true;
}

/** Scenarios per backend: js gets the most; the others fewer, to fit CI's time budget. */
const SCENARIOS: Record<BackendName, number> = { js: 8, wasm: 3, native: 3, webgpu: 2 };

describe.each(BACKENDS)('SIGKILL at random points, then resume, on %s', (name) => {
  const r = rng(2026 + BACKENDS.indexOf(name));
  const scenarios = Array.from({ length: SCENARIOS[name] }, (_, i) => {
    const kills = 1 + Math.floor(r() * 3);
    return Array.from({ length: kills }, () =>
      i % 2 === 0 ? { killAtStep: 1 + Math.floor(r() * (TOTAL_STEPS - 1)) } : { dieInWrite: `${1 + Math.floor(r() * 12)}:${(0.1 + r() * 0.8).toFixed(2)}` },
    );
  });
  let reference: string | null = null;
  /** The uninterrupted run's final weights on this backend (the child's SHA-256). */
  async function referenceHash(): Promise<string> {
    if (reference === null) {
      const run = await runChild(join(scratch, `${name}-reference`), { backend: name });
      counts.runs++;
      reference = run.lines.find((l) => l.startsWith('done '))!.slice(5);
      expect(reference).toMatch(/^[0-9a-f]{64}$/);
    }
    return reference;
  }
  scenarios.forEach((kills, i) => {
    it(`scenario ${i}: ${kills.map((k) => ('killAtStep' in k ? `kill after step ${k.killAtStep}` : `die in write ${k.dieInWrite}`)).join(', ')} → identical final weights`, async (ctx) => {
      const { backend, reason } = await openBackend(name);
      if (backend === null) return ctx.skip(reason!);
      const want = await referenceHash();
      const dir = join(scratch, `${name}-s${i}`);
      for (const k of kills) {
        const run = await runChild(dir, { ...k, backend: name });
        counts.runs++;
        if (run.lines.some((l) => l.startsWith('done '))) continue; // finished before the kill point
        expect(run.signal).toBe('SIGKILL');
        counts.kills++;
        if ('dieInWrite' in k) counts.killsInWrite++;
        const complete = await expectCompleteBackup(dir);
        if ('dieInWrite' in k) expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(true); // the half-written file exists...
        if (complete) expect(readdirSync(dir).filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThanOrEqual(1); // ...beside a complete backup
      }
      const last = await runChild(dir, { backend: name });
      counts.runs++;
      const start = last.lines.find((l) => l.startsWith('start '))!;
      if (start !== 'start null') counts.resumes++;
      expect(last.lines.find((l) => l.startsWith('done '))).toBe(`done ${want}`);
      expect(existsSync(dir)).toBe(false); // the finished run deleted its backup
    });
  });
});

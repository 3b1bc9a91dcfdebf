/** The machine description of the header: CPU, cores, memory, Node, load average, commit. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from './types.js';

export const loadAvg = (): [number, number, number] => os.loadavg().map((x) => Math.round(x * 100) / 100) as [number, number, number];

function cpuTimes(): { idle: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    return { idle: v[3] + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/**
 * Share of the whole machine's CPU time that was idle over `ms` (from /proc/stat, so it also
 * sees load from other containers that `ps` cannot); undefined where /proc/stat is missing.
 */
export async function cpuIdle(ms = 1000): Promise<number | undefined> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (!a || !b || b.total <= a.total) return undefined;
  return (b.idle - a.idle) / (b.total - a.total);
}

export function cores(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}

function gitCommit(): string | undefined {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    // The bench's own earlier results are not a change to what is measured.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', ':/', `:(top,exclude)apps/bench/results`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    return dirty ? `${sha} (+ uncommitted changes)` : sha;
  } catch {
    return undefined;
  }
}

export function machineInfo(mode: MachineInfo['mode']): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim(),
    cores: cores(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemGiB: os.totalmem() / 2 ** 30,
    loadStart: loadAvg(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    mode,
    commit: gitCommit(),
  };
}

/** Waits (up to `maxWaitSec`) until the machine's CPUs are at least `minIdle` idle. */
export interface IdleGate {
  minIdle: number;
  maxWaitSec: number;
  /** Seconds spent waiting so far (updated). */
  waitedSec: number;
}

/** Returns the idle share seen last (undefined without /proc/stat). */
export async function waitForIdle(gate: IdleGate | undefined): Promise<number | undefined> {
  if (!gate) return undefined;
  const t0 = Date.now();
  let idle = await cpuIdle(500);
  while (idle !== undefined && idle < gate.minIdle && (Date.now() - t0) / 1000 < gate.maxWaitSec) {
    idle = await cpuIdle(1000);
  }
  gate.waitedSec += (Date.now() - t0) / 1000;
  return idle;
}

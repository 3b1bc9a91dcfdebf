/**
 * PyTorch (CPU) and NumPy peers, run by py/torch_bench.py. The harness looks for a python3
 * that can import torch and numpy (`/usr/bin/python3` first, then `python3` on PATH, or
 * $TESSERA_BENCH_PYTHON); without one, those rows say "not installed".
 *
 * Kernel workloads go through long-lived `serve` processes (one per thread setting) with a
 * JSON-line protocol, so they interleave with the Node subjects; Python times itself.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { LineWorker, remotePrepared as remote } from '../line-worker.js';
import { appPath } from '../paths.js';
import type { SubjectInfo } from '../types.js';
import type { KernelSubject } from './kernel-subject.js';

/** py/torch_bench.py, found the same way from src/ (vitest) and dist/ (built). */
export const TORCH_SCRIPT = appPath('py', 'torch_bench.py');

export interface PythonProbe {
  python: string;
  executable: string;
  torch: string;
  numpy: string;
  threads: number;
  cpu_count: number;
  libs: string[];
  blas: string;
  torch_blas_info: string;
}

export type PythonFound = { ok: true; cmd: string; probe: PythonProbe } | { ok: false; reason: string };

let found: PythonFound | undefined;

/**
 * OpenBLAS's kernel for this CPU. OpenBLAS 0.3.21 identifies CPUs by model, and on virtual
 * machines that report a generic model it falls back to its slowest kernel (32 GFLOP/s instead
 * of 120 at 1024³ here), so the peer is given the kernel its instruction set supports,
 * unless the environment already chose one.
 */
function openblasCoretype(): string | undefined {
  if (process.env.OPENBLAS_CORETYPE) return process.env.OPENBLAS_CORETYPE;
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return undefined;
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  return has('avx512f') ? 'SkylakeX' : has('avx2') ? 'Haswell' : undefined;
}

/** Environment for a Python child limited to `threads` threads. */
export function threadEnv(threads: number): NodeJS.ProcessEnv {
  const t = String(threads);
  const coretype = openblasCoretype();
  return {
    ...process.env,
    ...(coretype ? { OPENBLAS_CORETYPE: coretype } : {}),
    // OpenBLAS's idle threads busy-wait ~2^28 cycles (~120 ms of a full core here) after
    // every call before sleeping, so the next subject of an interleaved round would run on a
    // machine with one core taken. 2^4 cycles makes them sleep at once; NumPy's own 1024³
    // matmul is unchanged by it (290 GFLOP/s either way on this machine).
    OPENBLAS_THREAD_TIMEOUT: process.env.OPENBLAS_THREAD_TIMEOUT ?? '4',
    TESSERA_BENCH_THREADS: t,
    OMP_NUM_THREADS: t,
    OPENBLAS_NUM_THREADS: t,
    MKL_NUM_THREADS: t,
  };
}

/** The first python3 that imports torch and numpy (cached). */
export function findPython(): PythonFound {
  if (found) return found;
  const candidates = [process.env.TESSERA_BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const cmd of [...new Set(candidates)]) {
    const r = spawnSync(cmd, [TORCH_SCRIPT, 'probe'], { encoding: 'utf8', timeout: 60_000, env: threadEnv(1) });
    if (r.error) {
      tried.push(`${cmd}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
      continue;
    }
    if (r.status !== 0) {
      const last = (r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.status}`;
      tried.push(`${cmd}: ${last}`);
      continue;
    }
    try {
      const probe = JSON.parse(r.stdout.trim().split('\n').pop()!) as PythonProbe;
      found = { ok: true, cmd, probe };
      return found;
    } catch {
      tried.push(`${cmd}: unreadable probe output`);
    }
  }
  found = { ok: false, reason: `not installed (no python3 imports torch and numpy; tried ${tried.join('; ')})` };
  return found;
}

export function allThreads(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** Subject descriptions of the Python rows (available or not). */
export function pythonInfos(py: PythonFound): { torch1: SubjectInfo; torchN: SubjectInfo; numpy: SubjectInfo } {
  const n = allThreads();
  if (!py.ok) {
    const un = (id: string, label: string): SubjectInfo => ({ id, label, kind: 'peer', family: 'python', status: 'unavailable', detail: py.reason });
    return { torch1: un('torch-1t', 'PyTorch CPU (1 thr)'), torchN: un('torch-all', `PyTorch CPU (${n} thr)`), numpy: un('numpy', 'NumPy') };
  }
  const p = py.probe;
  const base = `torch ${p.torch} (BLAS_INFO=${p.torch_blas_info}; loads ${p.blas}), Python ${p.python} at ${py.cmd}`;
  return {
    torch1: { id: 'torch-1t', label: 'PyTorch CPU (1 thr)', kind: 'peer', family: 'python', status: 'ok', detail: `${base}, 1 thread` },
    torchN: { id: 'torch-all', label: `PyTorch CPU (${n} thr)`, kind: 'peer', family: 'python', status: 'ok', detail: `${base}, ${n} threads` },
    numpy: {
      id: 'numpy',
      label: `NumPy (${p.blas.startsWith('OpenBLAS') ? 'OpenBLAS' : p.blas.split(' ')[0] === 'reference' ? 'ref. BLAS' : p.blas})`,
      kind: 'peer',
      family: 'python',
      status: 'ok',
      detail: `numpy ${p.numpy}; matmul calls ${p.blas} (libs: ${p.libs.join(', ') || 'none found'}); ${n} threads allowed`,
    },
  };
}

/** One `serve` process limited to `threads` threads. */
function pythonWorker(cmd: string, threads: number): LineWorker {
  return new LineWorker(cmd, [TORCH_SCRIPT, 'serve'], threadEnv(threads), 'python worker');
}

/** The torch (1 thread, all threads) and numpy kernel subjects. */
export function pythonKernelSubjects(py: PythonFound = findPython()): KernelSubject[] {
  const infos = pythonInfos(py);
  if (!py.ok) return [{ info: infos.torch1 }, { info: infos.torchN }, { info: infos.numpy }];
  const w1 = pythonWorker(py.cmd, 1);
  const wN = allThreads() > 1 ? pythonWorker(py.cmd, allThreads()) : w1;
  const torch = (info: SubjectInfo, w: LineWorker, closeIt: boolean): KernelSubject => ({
    info,
    matmul: (n) => remote(w, { lib: 'torch', workload: 'matmul', n }),
    elementwise: (kind, n) => remote(w, { lib: 'torch', workload: kind, n }),
    overhead: (autograd, count) => remote(w, { lib: 'torch', workload: 'overhead', autograd, count }),
    close: closeIt ? () => w.close() : undefined,
  });
  return [
    torch(infos.torch1, w1, true),
    torch(infos.torchN, wN, wN !== w1),
    // numpy in the all-threads process: an OpenBLAS would use every core by default.
    { info: infos.numpy, matmul: (n) => remote(wN, { lib: 'numpy', workload: 'matmul', n }) },
  ];
}

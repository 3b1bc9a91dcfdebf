/**
 * A long-lived child process that answers JSON-line requests in order: the Python peers
 * (`py/torch_bench.py serve`) and every Node subject of the kernel rows (`subject-server`).
 * Each subject in its own process keeps subjects from disturbing one another: thread pools,
 * heaps and the scheduler's placement of one framework's threads no longer depend on which
 * other frameworks happen to be loaded (see README, "Method").
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { Prepared } from './measure.js';
import { appPath } from './paths.js';

export class LineWorker {
  private proc: ChildProcessWithoutNullStreams;
  private lines: Interface;
  private waiting: ((line: string) => void)[] = [];
  private stderr = '';
  private exited: string | undefined;

  /** `what` names the child in error messages ("python worker", "tessera-wasm subject"). */
  constructor(
    cmd: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    private readonly what: string,
  ) {
    this.proc = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'], cwd: appPath() });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    this.proc.on('exit', (code, sig) => {
      this.exited = `${what} exited (${sig ?? code}): ${this.stderr.trim().split('\n').pop() ?? ''}`;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ ok: false, error: this.exited }));
    });
    this.proc.on('error', (e) => {
      this.exited = `${what} failed to start: ${e.message}`;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ ok: false, error: this.exited }));
    });
    this.lines = createInterface({ input: this.proc.stdout });
    // Lines that are not JSON objects (a library printing to stdout) are not replies.
    this.lines.on('line', (line) => {
      if (line.startsWith('{')) this.waiting.shift()?.(line);
    });
  }

  request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(line) as Record<string, unknown>;
        } catch {
          reject(new Error(`bad reply from ${this.what}: ${line.slice(0, 200)}`));
          return;
        }
        if (r.ok) resolve(r);
        else reject(new Error(String(r.error)));
      });
      this.proc.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    try {
      await Promise.race([this.request({ op: 'quit' }), new Promise((r) => setTimeout(r, 2000).unref())]);
    } catch {
      /* gone already */
    }
    this.proc.stdin.end();
    if (!this.exited) this.proc.kill();
  }
}

/** A workload prepared in a worker: `run` returns the seconds the worker measured itself. */
export function remotePrepared(worker: LineWorker, req: Record<string, unknown>): Promise<Prepared> {
  return worker.request({ op: 'prepare', ...req }).then((r) => {
    const handle = r.handle as number;
    return {
      run: async (reps: number) => (await worker.request({ op: 'run', handle, reps })).sec as number,
      dispose: async () => {
        await worker.request({ op: 'dispose', handle });
      },
    };
  });
}

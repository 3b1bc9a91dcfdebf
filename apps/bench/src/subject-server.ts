/**
 * A subject server: `node dist/subject-server.js '<SubjectSpec json>'` opens one Node subject
 * of the kernel rows (a Tessera backend, tfjs cpu/wasm, jax-js) in this process and answers
 * JSON lines on stdin: `hello` (its description), `prepare` (a workload → handle), `run`
 * (`reps` repetitions → seconds, timed here), `dispose`, `quit` — the protocol of the Python
 * peers' `serve`. See `line-worker.ts` for why every subject gets its own process.
 */
import { createInterface } from 'node:readline';
import type { Prepared } from './measure.js';
import { errorMessage } from './stats.js';
import type { ElementwiseKind, KernelSubject } from './subjects/kernel-subject.js';
import type { TesseraBackendHandle } from './subjects/tessera.js';

export type SubjectSpec = { family: 'tessera'; name: string; options?: { threads?: number } } | { family: 'tfjs'; name: 'cpu' | 'wasm' } | { family: 'jax' };

/** What `hello` answers: the subject's description, the workloads it offers, and for Tessera the handle (minus the backend). */
export interface SubjectHello {
  info: KernelSubject['info'];
  offers: ('matmul' | 'elementwise' | 'overhead')[];
  tessera?: Omit<TesseraBackendHandle, 'backend' | 'info'>;
}

async function open(spec: SubjectSpec): Promise<{ subject: KernelSubject; tessera?: SubjectHello['tessera'] }> {
  if (spec.family === 'tessera') {
    const { openTessera, tesseraKernelSubject } = await import('./subjects/tessera.js');
    const h = await openTessera(spec.name, spec.options);
    const { backend: _b, info: _i, ...meta } = h;
    return { subject: tesseraKernelSubject(h), tessera: meta };
  }
  if (spec.family === 'tfjs') {
    const { tfjsKernelSubject } = await import('./subjects/tfjs.js');
    return { subject: await tfjsKernelSubject(spec.name) };
  }
  const { jaxKernelSubject } = await import('./subjects/jax.js');
  return { subject: await jaxKernelSubject() };
}

const gc = (globalThis as { gc?: () => void }).gc;

async function serve(spec: SubjectSpec): Promise<void> {
  let opened: Awaited<ReturnType<typeof open>> | undefined;
  const prepared = new Map<number, Prepared>();
  let next = 1;
  const out = (r: Record<string, unknown>) => process.stdout.write(JSON.stringify(r) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    let req: Record<string, unknown>;
    try {
      req = JSON.parse(line) as Record<string, unknown>;
    } catch {
      out({ ok: false, error: `not JSON: ${line.slice(0, 100)}` });
      continue;
    }
    try {
      opened ??= await open(spec);
      const s = opened.subject;
      switch (req.op) {
        case 'hello': {
          const offers = (['matmul', 'elementwise', 'overhead'] as const).filter((w) => typeof s[w] === 'function');
          out({ ok: true, info: s.info, offers, tessera: opened.tessera } satisfies SubjectHello & { ok: true });
          break;
        }
        case 'prepare': {
          const w = req.workload;
          const p =
            w === 'matmul' && s.matmul
              ? await s.matmul(Number(req.n))
              : w === 'elementwise' && s.elementwise
                ? await s.elementwise(req.kind as ElementwiseKind, Number(req.n))
                : w === 'overhead' && s.overhead
                  ? await s.overhead(Boolean(req.autograd), Number(req.count))
                  : undefined;
          if (!p) throw new Error(`${s.info.id} does not offer '${String(w)}'`);
          prepared.set(next, p);
          out({ ok: true, handle: next++ });
          break;
        }
        case 'run': {
          const p = prepared.get(Number(req.handle));
          if (!p) throw new Error(`no prepared workload ${String(req.handle)}`);
          gc?.();
          out({ ok: true, sec: await p.run(Number(req.reps ?? 1)) });
          break;
        }
        case 'dispose': {
          const h = Number(req.handle);
          await prepared.get(h)?.dispose();
          prepared.delete(h);
          out({ ok: true });
          break;
        }
        case 'quit':
          out({ ok: true });
          await s.close?.();
          // Worker pools (wasm backends) may keep the event loop alive.
          process.exit(0);
        default:
          throw new Error(`unknown op ${String(req.op)}`);
      }
    } catch (e) {
      out({ ok: false, error: errorMessage(e) });
    }
  }
  process.exit(0);
}

const isMain = process.argv[1] !== undefined && /subject-server\.(js|ts|mjs)$/.test(process.argv[1]);
if (isMain) {
  // Libraries that log to stdout would corrupt the protocol: their lines go to stderr.
  console.log = console.error;
  serve(JSON.parse(process.argv[2] ?? '{}') as SubjectSpec).catch((e: unknown) => {
    process.stderr.write(`ERROR ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

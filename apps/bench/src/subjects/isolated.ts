/**
 * Node subjects of the kernel rows, each served by its own child process (`subject-server.ts`)
 * and driven through the same JSON-line protocol as the Python peers.
 */
import { LineWorker, remotePrepared } from '../line-worker.js';
import { nodeEntryArgs } from '../paths.js';
import { errorMessage } from '../stats.js';
import type { SubjectHello, SubjectSpec } from '../subject-server.js';
import type { SubjectInfo } from '../types.js';
import type { KernelSubject } from './kernel-subject.js';

export interface IsolatedSubject {
  subject: KernelSubject;
  tessera?: SubjectHello['tessera'];
}

/**
 * Starts the subject server for `spec` (node started with `nodeFlags` too) and asks for its description. A server that cannot
 * start or open its subject gives an unavailable subject (`fallback` names it) with the reason.
 */
export async function isolatedSubject(spec: SubjectSpec, fallback: Pick<SubjectInfo, 'id' | 'label' | 'kind' | 'family'>, nodeFlags: readonly string[] = []): Promise<IsolatedSubject> {
  let w: LineWorker;
  try {
    w = new LineWorker(process.execPath, ['--expose-gc', ...nodeFlags, ...nodeEntryArgs('subject-server'), JSON.stringify(spec)], process.env, `${fallback.id} subject server`);
  } catch (e) {
    return { subject: { info: { ...fallback, status: 'unavailable', detail: errorMessage(e) } } };
  }
  let hello: SubjectHello;
  try {
    hello = (await w.request({ op: 'hello' })) as unknown as SubjectHello;
  } catch (e) {
    await w.close();
    return { subject: { info: { ...fallback, status: 'unavailable', detail: errorMessage(e) } } };
  }
  if (hello.info.status !== 'ok') {
    await w.close();
    return { subject: { info: hello.info }, tessera: hello.tessera };
  }
  const offers = new Set(hello.offers);
  const subject: KernelSubject = {
    info: hello.info,
    ...(offers.has('matmul') ? { matmul: (n: number) => remotePrepared(w, { workload: 'matmul', n }) } : {}),
    ...(offers.has('elementwise') ? { elementwise: (kind: string, n: number) => remotePrepared(w, { workload: 'elementwise', kind, n }) } : {}),
    ...(offers.has('overhead') ? { overhead: (autograd: boolean, count: number) => remotePrepared(w, { workload: 'overhead', autograd, count }) } : {}),
    close: () => w.close(),
  };
  return { subject, tessera: hello.tessera };
}

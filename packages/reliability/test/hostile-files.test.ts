/**
 * Hostile files: thousands of seeded mutations of a saved model (the safetensors weights —
 * bytes, header length, header JSON, offsets — and model.json — any value replaced by a
 * hostile one, keys dropped, text cut or garbled) go through the public loaders
 * (`loadModelFromArtifacts`, and `loadModel` from disk for a share of them). Every load must
 * either succeed or raise a typed error (TesseraError); tensors must return to the start
 * after each; the heap must stay bounded (no allocation sized by a hostile number).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose, TesseraError, tensor } from '@tessera/core';
import { initializers, layers, loadModel, loadModelFromArtifacts, type ModelJson, sequential } from '@tessera/nn';
import { adam } from '@tessera/optim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounting, openBackend, use } from './support/backends.js';
import { rng } from './support/models.js';
import { mutateJson, mutateWeights, refitManifest } from './support/mutate.js';

const FILES = 3000; // mutated files in all
const FROM_DISK_EVERY = 10; // one in ten goes through loadModel (files on disk)

let modelJson: ModelJson;
let weights: Uint8Array;
let scratch = '';
const tally = { files: 0, loaded: 0, typed: 0, byKind: new Map<string, number>() };
const untyped: string[] = [];
const leaks: string[] = [];

beforeAll(async () => {
  const { backend } = await openBackend('js');
  use(backend!);
  const m = sequential([
    layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [6, 6, 1], kernelInitializer: initializers.glorotUniform({ seed: 1 }) }),
    layers.batchNormalization(),
    layers.flatten(),
    layers.dropout(0.2),
    layers.dense(3, 'softmax', { kernelInitializer: initializers.glorotUniform({ seed: 2 }) }),
  ]);
  const opt = adam();
  m.compile({ optimizer: opt, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const x = tensor(Array.from({ length: 4 * 36 }, (_, i) => Math.sin(i)), [4, 6, 6, 1]);
  const y = tensor([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0], [4, 3]);
  await m.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 }); // so the file holds optimizer slots too
  const a = await m.toArtifacts();
  modelJson = a.modelJson;
  weights = a.weights;
  expect(modelJson.optimizerState?.tensors.length).toBeGreaterThan(0);
  m.dispose();
  opt.dispose();
  dispose([x, y]);
  scratch = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  const kinds = [...tally.byKind].map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`[reliability] hostile files: ${tally.files} mutated files loaded (${tally.loaded} loaded anyway, ${tally.typed} typed errors); mutations: ${kinds}`);
});

/** Loads one mutated file in memory or from disk; returns what happened. */
async function tryLoad(i: number, json: string, bytes: Uint8Array): Promise<'loaded' | 'typed' | string> {
  try {
    let m;
    if (i % FROM_DISK_EVERY === 0) {
      const dir = join(scratch, `f${i}`);
      let file = 'weights.safetensors';
      try {
        const f = (JSON.parse(json) as { weightsManifest?: { file?: unknown } })?.weightsManifest?.file;
        if (typeof f === 'string' && /^[\w.-]+$/.test(f)) file = f;
      } catch {
        // Unparseable JSON: the loader reports it.
      }
      rmSync(dir, { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
      writeFileSync(join(dir, 'model.json'), json);
      writeFileSync(join(dir, file), bytes);
      m = await loadModel(dir);
    } else m = await loadModelFromArtifacts({ modelJson: json, weights: bytes });
    m.dispose();
    return 'loaded';
  } catch (e) {
    if (e instanceof TesseraError) return 'typed';
    return `${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? String(e)} ${process.env.RELIABILITY_TRACE ? (e as Error)?.stack?.split("\n").slice(1, 6).join(" <- ") : ""}`.slice(0, 900);
  }
}

describe('fuzzing the model loader', () => {
  it('the unmutated file loads (with its optimizer state)', async () => {
    const m = await loadModelFromArtifacts({ modelJson: JSON.stringify(modelJson), weights });
    expect((m.optimizer as unknown as { iterations: number }).iterations).toBe(2);
    m.dispose();
  });

  it('a config that asks for far more weights than the file holds is refused before allocating them', async () => {
    const { backend } = await openBackend('js');
    use(backend!);
    const start = accounting(backend!);
    const j = JSON.parse(JSON.stringify(modelJson)) as ModelJson;
    const layersCfg = (j.modelConfig.config as { layers: { className: string; config: Record<string, unknown> }[] }).layers;
    layersCfg.find((l) => l.className === 'Dense')!.config.units = 2e6; // a 32 x 2e6 kernel: 256 MB
    const before = process.memoryUsage().arrayBuffers;
    await expect(loadModelFromArtifacts({ modelJson: j, weights })).rejects.toThrow(/far larger than its \d+-byte weights file/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(accounting(backend!)).toEqual(start);
  });

  it(`${FILES} seeded mutated files: typed errors only, no leaks, bounded memory`, async () => {
    const { backend } = await openBackend('js');
    use(backend!);
    const r = rng(12);
    const start = accounting(backend!);
    const used = (): number => {
      const u = process.memoryUsage();
      return u.heapUsed + u.arrayBuffers; // typed arrays (tensor storage on js) live outside the heap
    };
    const heap0 = used();
    let heapMax = heap0;
    const jsonText = JSON.stringify(modelJson);
    for (let i = 0; i < FILES; i++) {
      let json = jsonText;
      let bytes = weights;
      let kind: string;
      let detail = '';
      const what = r();
      if (what < 0.45) {
        const w = mutateWeights(r, weights);
        bytes = w.bytes;
        kind = `weights:${w.kind}`;
        // Half keep the manifest's length and CRC (the checksum must catch it); half refit them so
        // the damage reaches the safetensors parser and the model builder.
        if (r() < 0.5) json = refitManifest(json, bytes);
      } else if (what < 0.9) {
        const j = mutateJson(r, modelJson);
        json = j.text;
        kind = `json:${j.kind.split(' ')[0]}`;
        detail = j.kind;
      } else {
        const w = mutateWeights(r, weights);
        const j = mutateJson(r, modelJson);
        bytes = w.bytes;
        json = refitManifest(j.text, bytes);
        kind = 'both';
      }
      tally.byKind.set(kind, (tally.byKind.get(kind) ?? 0) + 1);
      const before = accounting(backend!);
      const res = await tryLoad(i, json, bytes);
      const after = accounting(backend!);
      if (after.numTensors !== before.numTensors || after.liveBytes !== before.liveBytes) leaks.push(`file ${i} (${kind} ${detail}, ${res}): ${before.numTensors} -> ${after.numTensors} tensors`);
      tally.files++;
      if (res === 'loaded') tally.loaded++;
      else if (res === 'typed') tally.typed++;
      else untyped.push(`file ${i} (${kind}): ${res}`);
      if (i % 10 === 0) heapMax = Math.max(heapMax, used());
    }
    expect(untyped).toEqual([]);
    expect(leaks).toEqual([]);
    expect(accounting(backend!)).toEqual(start);
    // Bounded memory: no mutation made the loader allocate by a hostile size (the file is ~2 KB).
    expect(heapMax - heap0).toBeLessThan(256 * 1024 * 1024);
    expect(tally.typed).toBeGreaterThan(FILES / 2);
  });
});

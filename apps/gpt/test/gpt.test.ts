import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CharTokenizer, dispose, generate, loadModel, loadTokenizer, memory, setSeed, type Tensor, tensor } from 'tessera';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaults, parseArgs, useBackend } from '../src/cli.js';
import { allBatches, batchStream, bucketize, lmPair, splitCorpus, unigram } from '../src/data.js';
import { CharBERT, CharGPT } from '../src/models.js';
import { maskBatch, run } from '../src/train.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tessera-gpt-app-'));
beforeAll(async () => {
  await useBackend('js');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const live = (): [number, number] => [memory().numTensors, memory().numBytes];
const quiet = { print: () => undefined, verbose: 0 as const };

describe('command line', () => {
  it('parses flags (pnpm passes a leading --) and rejects bad ones', () => {
    const o = parseArgs(['--', '--model', 'bert', '--steps', '50', '--backend=wasm', '--d-model', '32', '--heads', '2', '--top-p', '0.9', '--quiet']);
    expect(o).toMatchObject({ model: 'bert', steps: 50, batchSize: 64, backend: 'wasm', dModel: 32, heads: 2, intermediateDim: 128, topP: 0.9, verbose: 0, out: './bert-model' });
    expect(parseArgs([])).toMatchObject({ model: 'gpt', backend: 'js', out: './gpt-model', intermediateDim: 256, steps: 1200, batchSize: 16 });
    expect(parseArgs(['--model', 'bert', '--batch-size', '8'])).toMatchObject({ steps: 300, batchSize: 8 });
    expect(parseArgs(['--help'])).toBeNull();
    expect(() => parseArgs(['--steps', '0'])).toThrow(/--steps needs an integer >= 1/);
    expect(() => parseArgs(['--model', 'rnn'])).toThrow(/gpt or bert/);
    expect(() => parseArgs(['--top-p', '2'])).toThrow(/in \(0, 1\]/);
    expect(() => parseArgs(['--d-model', '30', '--heads', '4'])).toThrow(/multiple of --heads/);
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown option/);
  });

  it('names an unknown backend', async () => {
    await expect(useBackend('cuda')).rejects.toThrow(/unknown backend 'cuda'/);
  });
});

describe('data', () => {
  const tok = CharTokenizer.fromCorpus(['abc']);
  it('buckets words by length as bos + chars + eos and pairs inputs with next characters', () => {
    const buckets = bucketize(tok, ['ab', 'cab', 'ba']);
    expect(buckets.map((b) => [b.width, b.rows])).toEqual([
      [4, 2],
      [5, 1],
    ]);
    // ids: pad 0, bos 1, eos 2, mask 3, unk 4, a 5, b 6, c 7
    expect(Array.from(buckets[0]!.ids)).toEqual([1, 5, 6, 2, 1, 6, 5, 2]);
    const [x, y] = lmPair(allBatches(buckets, 8)[1]!);
    expect(x.arraySync()).toEqual([[1, 7, 5, 6]]);
    expect(y.arraySync()).toEqual([[7, 5, 6, 2]]);
    dispose([x, y]);
    // Unigram targets: a a b b (from ab, ba) + c a b + eos x3 -> entropy of {a:3, b:3, c:1, eos:3}/10.
    const u = unigram(buckets, tok.vocabSize);
    const p = [0.3, 0.3, 0.1, 0.3];
    expect(u.total).toBe(10);
    expect(u.entropy).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log(q), 0), 12);
  });

  it('streams every word once per pass, in same-length batches', () => {
    const words = ['a', 'b', 'c', 'ab', 'bc', 'abc', 'cab', 'bca', 'aab'];
    const next = batchStream(bucketize(tok, words), 2, 1);
    const seen: string[] = [];
    let batches = 0;
    while (seen.length < words.length) {
      const b = next();
      batches++;
      for (let r = 0; r < b.rows; r++) seen.push(tok.decode(b.ids.subarray(r * b.width, (r + 1) * b.width)));
    }
    expect(seen.sort()).toEqual([...words].sort());
    expect(batches).toBe(2 + 1 + 2); // lengths 1 (3 words), 2 (2 words), 3 (4 words)
  });

  it('splits the word list reproducibly and masks 15% of characters, never bos/eos', () => {
    const words = Array.from({ length: 500 }, (_, i) => `w${'abcdefghij'[i % 10]}${'klmnop'[i % 6]}${i}`);
    const a = splitCorpus(words, { valWords: 50, seed: 3, maxWordLength: 30 });
    expect(splitCorpus(words, { valWords: 50, seed: 3, maxWordLength: 30 }).val).toEqual(a.val);
    expect(a.train).toHaveLength(450);
    expect(new Set([...a.train, ...a.val]).size).toBe(500);
    const t = CharTokenizer.fromCorpus(['abcdefghijklmnopqrstuvwxyz']);
    const batch = { rows: 200, width: 12, ids: new Int32Array(200 * 12) };
    for (let r = 0; r < 200; r++) batch.ids.set(t.encode('abcdefghij', { addBos: true, addEos: true }), r * 12);
    let s = 7;
    const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const charIds = t.chars.map((c) => t.tokenToId(c)!);
    const [x, y] = maskBatch(batch, rand, t.maskId!, charIds);
    let chosen = 0;
    let masked = 0;
    for (let r = 0; r < 200; r++) {
      const row = y.subarray(r * 12, (r + 1) * 12);
      expect(row[0]).toBe(0);
      expect(row[11]).toBe(0);
      expect(row.some((v) => v !== 0)).toBe(true);
      for (let j = 0; j < 12; j++) {
        if (row[j] !== 0) {
          chosen++;
          expect(row[j]).toBe(batch.ids[r * 12 + j]);
          if (x[r * 12 + j] === t.maskId) masked++;
        } else expect(x[r * 12 + j]).toBe(batch.ids[r * 12 + j]);
      }
    }
    expect(chosen / 2000).toBeGreaterThan(0.12);
    expect(chosen / 2000).toBeLessThan(0.22);
    expect(masked / chosen).toBeGreaterThan(0.7);
  });
});

describe('models', () => {
  const config = { vocabSize: 12, maxLength: 16, dModel: 16, numLayers: 2, numHeads: 2, intermediateDim: 32 };

  it('CharGPT decodes the same tokens with and without the KV cache, and is causal', async () => {
    setSeed(5);
    const gpt = new CharGPT(config);
    const before = live();
    const prompt = [
      [1, 5],
      [1, 7],
      [1, 9],
    ];
    for (const o of [{ temperature: 0 }, { temperature: 1, seed: 3 }, { temperature: 1.3, topK: 4, topP: 0.9, seed: 4 }]) {
      const cached = await generate(gpt.step(), prompt, { ...o, maxNewTokens: 13, maxLength: 16, useCache: true });
      const full = await generate(gpt.step(), prompt, { ...o, maxNewTokens: 13, maxLength: 16, useCache: false });
      expect(cached).toEqual(full);
      expect(cached.every((r) => r.length === 15)).toBe(true);
    }
    // Causal: changing a later token leaves earlier positions' logits unchanged.
    const a = tensor([[1, 5, 6, 7]], undefined, 'int32');
    const b = tensor([[1, 5, 6, 9]], undefined, 'int32');
    const la = gpt.call(a, {}) as Tensor;
    const lb = gpt.call(b, {}) as Tensor;
    const ra = la.arraySync() as number[][][];
    const rb = lb.arraySync() as number[][][];
    for (let t = 0; t < 3; t++) ra[0]![t]!.forEach((v, k) => expect(rb[0]![t]![k]).toBeCloseTo(v, 5));
    expect(ra[0]![3]).not.toEqual(rb[0]![3]);
    dispose([a, b, la, lb]);
    expect(live()).toEqual(before);
    gpt.dispose();
  });

  it('CharBERT sees both sides; both models save and load with identical outputs', async () => {
    setSeed(6);
    const bert = new CharBERT(config);
    const gpt = new CharGPT(config);
    const a = tensor([[1, 5, 6, 7]], undefined, 'int32');
    const b = tensor([[1, 5, 6, 9]], undefined, 'int32');
    const la = bert.call(a, {}) as Tensor;
    const lb = bert.call(b, {}) as Tensor;
    // Position 1 sees the changed last token in an encoder.
    expect((la.arraySync() as number[][][])[0]![1]).not.toEqual((lb.arraySync() as number[][][])[0]![1]);
    for (const [m, sub] of [
      [gpt, 'gpt'],
      [bert, 'bert'],
    ] as const) {
      await m.save(path.join(dir, sub));
      const back = await loadModel(path.join(dir, sub), { customLayers: { CharGPT, CharBERT } });
      expect(back.constructor).toBe(m.constructor);
      const y1 = m.call(a, {}) as Tensor;
      const y2 = back.call(a, {}) as Tensor;
      expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
      dispose([y1, y2]);
      back.dispose();
    }
    dispose([a, b, la, lb]);
    bert.dispose();
    gpt.dispose();
  });
});

describe('training runs (tiny budgets)', () => {
  const tiny = { dModel: 32, layers: 2, heads: 2, intermediateDim: 64, valWords: 300, trainWords: 20000, batchSize: 32, learningRate: 5e-3, samples: 6, ...quiet };

  it('GPT: validation loss falls below the unigram baseline, checkpoint + samples, no leaks', async () => {
    const before = live();
    const out = path.join(dir, 'gpt-run');
    const r = await run({ ...defaults(), ...tiny, steps: 80, evalEvery: 40, out, model: 'gpt' });
    expect(live()).toEqual(before);
    expect(r.valLoss).toHaveLength(2);
    expect(r.unigramLoss).toBeGreaterThan(2.7);
    expect(r.finalValLoss).toBeLessThan(r.unigramLoss);
    expect(r.tokensPerSecond).toBeGreaterThan(0);
    expect(r.cacheIdentical).toBe(true);
    expect(r.samples).toHaveLength(6);
    for (const w of r.samples!) expect(w).toMatch(/^[a-z]*$/);
    expect(existsSync(path.join(out, 'model.json'))).toBe(true);
    expect(readFileSync(path.join(out, 'curves.svg'), 'utf8')).toContain('<svg');
    const tok = await loadTokenizer(path.join(out, 'tokenizer.json'));
    expect(tok.vocabSize).toBe(31);
  });

  it('BERT: masked-character loss falls below the unigram baseline, no leaks', async () => {
    const before = live();
    // Masked prediction sees ~15% of the positions as labels, so it needs more words than the GPT.
    const r = await run({ ...defaults(), ...tiny, steps: 150, batchSize: 64, learningRate: 1e-2, evalEvery: 150, out: path.join(dir, 'bert-run'), model: 'bert' });
    expect(live()).toEqual(before);
    expect(r.unigramLoss).toBeGreaterThan(2.7);
    expect(r.finalValLoss).toBeLessThan(r.unigramLoss);
    expect(r.baselineAccuracy).toBeGreaterThan(0.08);
    expect(r.maskedAccuracy).toBeGreaterThan(r.baselineAccuracy!);
  });
});

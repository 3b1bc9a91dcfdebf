/**
 * Transformer blocks and position layers: pre/post-norm, causal and memory masks, decoding a
 * small GPT with and without a KV cache, padding masks through a model, save/load round
 * trips, training, typed errors and leaks.
 */
import { argmax, ArgumentError, concat, dispose, matmul, mean, randomNormal, ShapeError, slice, type Tensor, tensor, tidy } from '@tessera/core';
import { adam } from '@tessera/optim';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyRotary, input, KVCache, type Layer, layers, loadModelFromArtifacts, type Model, model, modelToArtifacts, sequential } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

const read = async (t: Tensor): Promise<number[]> => Array.from(await t.data());
const maxAbsDiff = async (a: Tensor, b: Tensor): Promise<number> => {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [await read(a), await read(b)];
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
};

/** A tiny decoder-only model: token + position embedding, causal blocks, logits. */
class TinyGpt {
  readonly emb = layers.tokenAndPositionEmbedding({ vocabSize: 12, maxLength: 16, embeddingDim: 16 });
  readonly blocks = [0, 1].map(() => layers.transformerEncoder({ numHeads: 2, intermediateDim: 32, normFirst: true }));
  readonly norm = layers.layerNormalization({ epsilon: 1e-5 });
  readonly head = layers.dense({ units: 12 });
  /** Logits `[batch, T, vocab]` for `ids`, appending to `cache` when given. */
  logits(ids: Tensor, cache?: KVCache): Tensor {
    return tidy(() => {
      let h = this.emb.apply(ids, { startIndex: cache?.length ?? 0 });
      this.blocks.forEach((b, i) => (h = b.apply(h, { useCausalMask: true, cache: cache?.layer(i) })));
      return this.head.apply(this.norm.apply(h));
    });
  }
  dispose(): void {
    for (const l of [this.emb, ...this.blocks, this.norm, this.head] as Layer[]) l.dispose();
  }
}

describe('transformer blocks', () => {
  it('transformerEncoder keeps [batch, T, dModel]; post-norm rows are normalised, pre-norm rows are residual sums', async () => {
    const before = snapshot();
    const x = randomNormal([2, 5, 8], { seed: 1, mean: 3 });
    const post = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16 });
    const pre = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16, normFirst: true });
    const yPost = post.apply(x);
    const yPre = pre.apply(x);
    expect(yPost.shape).toEqual([2, 5, 8]);
    expect(post.selfAttention!.keyDim).toBe(4);
    expect(post.weightEntries.map((w) => w.name)).toEqual([
      'self_attention/query/kernel', 'self_attention/query/bias', 'self_attention/key/kernel', 'self_attention/key/bias',
      'self_attention/value/kernel', 'self_attention/value/bias', 'self_attention/attention_output/kernel', 'self_attention/attention_output/bias',
      'self_attention_norm/gamma', 'self_attention_norm/beta', 'ffn_intermediate/kernel', 'ffn_intermediate/bias',
      'ffn_output/kernel', 'ffn_output/bias', 'ffn_norm/gamma', 'ffn_norm/beta',
    ]);
    const rowMeans = async (t: Tensor): Promise<number[]> => {
      const m = mean(t, -1);
      const v = await read(m);
      m.dispose();
      return v;
    };
    for (const m of await rowMeans(yPost)) expect(Math.abs(m)).toBeLessThan(1e-4);
    // Pre-norm adds to the input (mean 3), so its rows keep a large mean.
    expect((await rowMeans(yPre)).some((m) => Math.abs(m) > 0.5)).toBe(true);
    dispose([x, yPost, yPre]);
    post.dispose();
    pre.dispose();
    expectNoLeak(before);
  });

  it('a causal block ignores the future: earlier outputs do not change when later inputs do', async () => {
    const before = snapshot();
    const enc = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16 });
    const dec = layers.transformerDecoder({ numHeads: 2, intermediateDim: 16 });
    const a = randomNormal([1, 6, 8], { seed: 2 });
    const tail = randomNormal([1, 2, 8], { seed: 3 });
    const b = tidy(() => concat([slice(a, [0, 0, 0], [1, 4, 8]), tail], 1));
    const mem = randomNormal([1, 3, 8], { seed: 4 });
    for (const [f, name] of [
      [(x: Tensor) => enc.apply(x, { useCausalMask: true }), 'encoder'],
      [(x: Tensor) => dec.apply([x, mem]), 'decoder'],
    ] as const) {
      const ya = f(a);
      const yb = f(b);
      const [ea, eb] = [slice(ya, [0, 0, 0], [1, 4, 8]), slice(yb, [0, 0, 0], [1, 4, 8])];
      expect(await maxAbsDiff(ea, eb), name).toBeLessThan(1e-6);
      const [la, lb] = [slice(ya, [0, 4, 0], [1, 2, 8]), slice(yb, [0, 4, 0], [1, 2, 8])];
      expect(await maxAbsDiff(la, lb), name).toBeGreaterThan(1e-4);
      dispose([ya, yb, ea, eb, la, lb]);
    }
    dispose([a, tail, b, mem]);
    enc.dispose();
    dec.dispose();
    expectNoLeak(before);
  });

  it('transformerDecoder: cross-attention reads memory, memoryMask hides padded memory, decoder-only works without memory', async () => {
    const before = snapshot();
    const dec = layers.transformerDecoder({ numHeads: 2, intermediateDim: 16, normFirst: true });
    const x = randomNormal([2, 4, 8], { seed: 5 });
    const mem = randomNormal([2, 5, 6], { seed: 6 });
    const mem2 = tidy(() => concat([slice(mem, [0, 0, 0], [2, 3, 6]), randomNormal([2, 2, 6], { seed: 7 })], 1));
    const memoryMask = tensor([[1, 1, 1, 0, 0], [1, 1, 1, 0, 0]], [2, 5], 'bool');
    const y = dec.apply([x, mem], { memoryMask });
    expect(y.shape).toEqual([2, 4, 8]);
    expect(dec.crossAttention!.keyDense!.kernel!.shape).toEqual([6, 8]);
    const y2 = dec.apply([x, mem2], { memoryMask });
    expect(await maxAbsDiff(y, y2)).toBeLessThan(1e-6);
    const y3 = dec.apply([x, mem2]);
    expect(await maxAbsDiff(y, y3)).toBeGreaterThan(1e-4);
    expect(() => dec.apply(x)).toThrow(ArgumentError);
    const solo = layers.transformerDecoder({ numHeads: 2, intermediateDim: 16 });
    const ys = solo.apply(x);
    expect(ys.shape).toEqual([2, 4, 8]);
    expect(solo.crossAttention).toBeNull();
    dispose([x, mem, mem2, memoryMask, y, y2, y3, ys]);
    dec.dispose();
    solo.dispose();
    expectNoLeak(before);
  });

  it('decodes a small GPT with a KV cache to the same logits and greedy tokens as without one', async () => {
    const before = snapshot();
    const gpt = new TinyGpt();
    const prompt = tensor([[1, 5, 3], [2, 2, 7]], [2, 3], 'int32');
    // Greedy decoding without a cache: re-run the whole sequence each step.
    let seq = prompt;
    const slowLogits: Tensor[] = [];
    for (let s = 0; s < 5; s++) {
      const logits = gpt.logits(seq);
      const last = slice(logits, [0, seq.shape[1]! - 1, 0], [2, 1, 12]);
      slowLogits.push(last);
      const next = argmax(last, -1);
      const grown = concat([seq, next], 1);
      dispose([logits, next]);
      if (seq !== prompt) seq.dispose();
      seq = grown;
    }
    const slowTokens = await read(seq);
    // With a cache: the prompt once, then one token per step.
    const cache = new KVCache();
    let tokens = prompt;
    const fastTokens: Tensor[] = [prompt];
    for (let s = 0; s < 5; s++) {
      const logits = gpt.logits(tokens, cache);
      const last = slice(logits, [0, tokens.shape[1]! - 1, 0], [2, 1, 12]);
      expect(await maxAbsDiff(last, slowLogits[s]!)).toBeLessThan(1e-5);
      tokens = argmax(last, -1);
      fastTokens.push(tokens);
      dispose([logits, last]);
    }
    expect(cache.length).toBe(3 + 4);
    expect(cache.numLayers).toBe(2);
    const fast = concat(fastTokens, 1);
    expect(await read(fast)).toEqual(slowTokens);
    cache.dispose();
    dispose([seq, fast, ...fastTokens.slice(1), prompt, ...slowLogits]);
    gpt.dispose();
    expectNoLeak(before);
  });

  it('a functional GPT decodes with one KVCache handed to the model (each attention layer keeps its own entry)', async () => {
    const before = snapshot();
    const inp = input({ shape: [null], dtype: 'int32' });
    let h = layers.tokenAndPositionEmbedding({ vocabSize: 12, maxLength: 16, embeddingDim: 16 }).apply(inp);
    for (let i = 0; i < 2; i++) h = layers.transformerEncoder({ numHeads: 2, intermediateDim: 32, normFirst: true }).apply(h, { useCausalMask: true });
    const gpt = model({ inputs: inp, outputs: layers.dense({ units: 12 }).apply(h) });
    const ids = tensor([[3, 1, 4, 1, 5, 9, 2]], [1, 7], 'int32');
    const full = gpt.apply(ids);
    const cache = new KVCache();
    const parts = [tidy(() => gpt.apply(slice(ids, [0, 0], [1, 4]), { cache, startIndex: 0 }))];
    for (let t = 4; t < 7; t++) parts.push(tidy(() => gpt.apply(slice(ids, [0, t], [1, 1]), { cache, startIndex: cache.length })));
    expect(cache.numLayers).toBe(2);
    expect(cache.length).toBe(7);
    const inc = concat(parts, 1);
    expect(await maxAbsDiff(full, inc)).toBeLessThan(1e-5);
    cache.dispose();
    dispose([ids, full, inc, ...parts]);
    gpt.dispose();
    expectNoLeak(before);
  });

  it('keeps padded prompt positions hidden while decoding with a cache (the cache holds the key mask)', async () => {
    const before = snapshot();
    const inp = input({ shape: [null], dtype: 'int32' });
    let h = layers.tokenAndPositionEmbedding({ vocabSize: 12, maxLength: 16, embeddingDim: 16, maskZero: true }).apply(inp);
    h = layers.transformerEncoder({ numHeads: 2, intermediateDim: 32, normFirst: true }).apply(h, { useCausalMask: true });
    const gpt = model({ inputs: inp, outputs: layers.dense({ units: 12 }).apply(h) });
    const ids = tensor([[0, 0, 3, 4, 5, 6], [7, 8, 9, 10, 11, 1]], [2, 6], 'int32');
    const full = gpt.apply(ids);
    const cache = new KVCache();
    const parts = [tidy(() => gpt.apply(slice(ids, [0, 0], [2, 4]), { cache, startIndex: 0 }))];
    for (let t = 4; t < 6; t++) parts.push(tidy(() => gpt.apply(slice(ids, [0, t], [2, 1]), { cache, startIndex: cache.length })));
    const inc = concat(parts, 1);
    expect(await maxAbsDiff(full, inc)).toBeLessThan(1e-5);
    const entry = cache.entryFor((gpt.layers[2] as unknown as { selfAttention: object }).selfAttention);
    expect(Array.from(await entry.keyMask!.data())).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    cache.dispose();
    dispose([ids, full, inc, ...parts]);
    gpt.dispose();
    expectNoLeak(before);
  });

  it('raises typed errors', () => {
    const before = snapshot();
    expect(() => layers.transformerEncoder({ numHeads: 0, intermediateDim: 4 })).toThrow(ArgumentError);
    expect(() => layers.transformerEncoder({ numHeads: 2, intermediateDim: 4, dropout: -0.1 })).toThrow(ArgumentError);
    expect(() => layers.transformerEncoder({ numHeads: 2, intermediateDim: 4, activation: 'nope' as never })).toThrow();
    const enc = layers.transformerEncoder({ numHeads: 2, intermediateDim: 4, name: 'blk' });
    const x2 = randomNormal([2, 8], { seed: 1 });
    expect(() => enc.apply(x2)).toThrow(ShapeError);
    const wide = layers.transformerEncoder({ numHeads: 16, intermediateDim: 4 });
    const x = randomNormal([1, 2, 8], { seed: 2 });
    expect(() => wide.apply(x)).toThrow(ArgumentError);
    dispose([x2, x]);
    enc.dispose();
    wide.dispose();
    expectNoLeak(before);
  });
});

describe('position layers', () => {
  it('positionEmbedding returns the rows for startIndex.. broadcast to the input; past maxLength is a ShapeError', async () => {
    const before = snapshot();
    const pe = layers.positionEmbedding({ maxLength: 6 });
    const x = randomNormal([2, 4, 3], { seed: 1 });
    const all = pe.apply(x);
    expect(all.shape).toEqual([2, 4, 3]);
    const table = await read(pe.embeddings!.value);
    expect((await read(all)).slice(0, 12)).toEqual(table.slice(0, 12));
    const x2 = randomNormal([2, 2, 3], { seed: 2 });
    const later = pe.apply(x2, { startIndex: 3 });
    expect((await read(later)).slice(0, 6)).toEqual(table.slice(9, 15));
    expect(() => pe.apply(x2, { startIndex: 5 } as never)).toThrow(ShapeError);
    expect(() => pe.apply(x2, { startIndex: -1 } as never)).toThrow(ArgumentError);
    dispose([x, all, x2, later]);
    pe.dispose();
    expectNoLeak(before);
  });

  it('sinusoidalPositionEncoding follows sin/cos of p / 10000^(2⌊i/2⌋/d) and honours startIndex', async () => {
    const before = snapshot();
    const se = layers.sinusoidalPositionEncoding();
    const x = randomNormal([1, 5, 6], { seed: 1 });
    const yt = se.apply(x);
    const y = await read(yt);
    for (const [p, i] of [[0, 0], [0, 1], [3, 2], [4, 5]] as const) {
      const angle = p / 10000 ** ((2 * Math.floor(i / 2)) / 6);
      expect(y[p * 6 + i]).toBeCloseTo(i % 2 === 0 ? Math.sin(angle) : Math.cos(angle), 6);
    }
    const x2 = randomNormal([1, 2, 6], { seed: 2 });
    const offT = se.apply(x2, { startIndex: 3 });
    const off = await read(offT);
    off.forEach((v, n) => expect(v).toBeCloseTo(y[18 + n]!, 6));
    expect(() => layers.sinusoidalPositionEncoding({ maxLength: 4 }).apply(x)).toThrow(ShapeError);
    dispose([x, x2, yt, offT]);
    expectNoLeak(before);
  });

  it('tokenAndPositionEmbedding with maskZero makes padded positions invisible to a transformer block', async () => {
    const before = snapshot();
    const inp = input({ shape: [5], dtype: 'int32' });
    const emb = layers.tokenAndPositionEmbedding({ vocabSize: 10, maxLength: 5, embeddingDim: 8, maskZero: true });
    const h = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16 }).apply(emb.apply(inp));
    const m = model({ inputs: inp, outputs: layers.dense({ units: 3 }).apply(h) });
    const a = tensor([[4, 2, 9, 0, 0]], [1, 5], 'int32');
    const b = tensor([[4, 2, 9, 0, 0]], [1, 5], 'int32');
    const c = tensor([[4, 2, 9, 1, 0]], [1, 5], 'int32');
    const [ya, yb, yc] = [a, b, c].map((t) => m.apply(t));
    const real = (t: Tensor): Tensor => slice(t, [0, 0, 0], [1, 3, 3]);
    const [ra, rb, rc] = [ya!, yb!, yc!].map(real);
    expect(await maxAbsDiff(ra!, rb!)).toBe(0);
    expect(await maxAbsDiff(ra!, rc!)).toBeGreaterThan(1e-4);
    expect(emb.weightEntries.map((w) => w.name)).toEqual(['token_embedding/embeddings', 'position_embedding/embeddings']);
    dispose([a, b, c, ya!, yb!, yc!, ra!, rb!, rc!]);
    m.dispose();
    expectNoLeak(before);
  });
});

describe('rotary position embedding', () => {
  it('rotates feature pairs by position (half-split form) and honours startIndex', async () => {
    const before = snapshot();
    const rope = layers.rotaryEmbedding();
    const x = randomNormal([1, 6, 4], { seed: 1 });
    const xs = await read(x);
    const yt = rope.apply(x);
    const y = await read(yt);
    expect(yt.shape).toEqual([1, 6, 4]);
    for (const p of [0, 2, 5]) {
      for (let i = 0; i < 2; i++) {
        const a = p / 10000 ** ((2 * i) / 4);
        const [x1, x2] = [xs[p * 4 + i]!, xs[p * 4 + 2 + i]!];
        expect(y[p * 4 + i]).toBeCloseTo(x1 * Math.cos(a) - x2 * Math.sin(a), 5);
        expect(y[p * 4 + 2 + i]).toBeCloseTo(x2 * Math.cos(a) + x1 * Math.sin(a), 5);
      }
    }
    const tail = slice(x, [0, 3, 0], [1, 3, 4]);
    const yTail = rope.apply(tail, { startIndex: 3 });
    expect((await read(yTail)).map((v, n) => v - y[12 + n]!).every((d) => Math.abs(d) < 1e-6)).toBe(true);
    const odd = randomNormal([1, 2, 3], { seed: 2 });
    expect(() => rope.apply(odd)).toThrow(ShapeError);
    expect(() => layers.multiHeadAttention({ numHeads: 2, keyDim: 3, rotary: true })).toThrow(ArgumentError);
    dispose([x, yt, tail, yTail, odd]);
    expectNoLeak(before);
  });

  it('makes query-key dot products depend only on relative position', async () => {
    const before = snapshot();
    const q = randomNormal([1, 2, 5, 8], { seed: 3 });
    const k = randomNormal([1, 2, 5, 8], { seed: 4 });
    const scores = (start: number): Tensor =>
      tidy(() => matmul(applyRotary(q, 2, start), applyRotary(k, 2, start), { transposeB: true }));
    const [a, b] = [scores(0), scores(11)];
    expect(await maxAbsDiff(a, b)).toBeLessThan(1e-4);
    dispose([q, k, a, b]);
    expectNoLeak(before);
  });

  it('a rotary GPT block decodes with a KV cache exactly as without one', async () => {
    const before = snapshot();
    const block = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16, normFirst: true, rotary: true });
    const plain = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16, normFirst: true });
    const x = randomNormal([2, 6, 8], { seed: 5 });
    const full = block.apply(x, { useCausalMask: true });
    plain.apply(x).dispose();
    const ws = block.getWeights();
    plain.setWeights(ws);
    dispose(ws);
    const noRope = plain.apply(x, { useCausalMask: true });
    expect(await maxAbsDiff(full, noRope)).toBeGreaterThan(1e-4);
    const cache = new KVCache();
    const parts = [tidy(() => block.apply(slice(x, [0, 0, 0], [2, 3, 8]), { useCausalMask: true, cache }))];
    for (let t = 3; t < 6; t++) parts.push(tidy(() => block.apply(slice(x, [0, t, 0], [2, 1, 8]), { useCausalMask: true, cache })));
    const inc = concat(parts, 1);
    expect(await maxAbsDiff(full, inc)).toBeLessThan(1e-5);
    cache.dispose();
    dispose([x, full, noRope, inc, ...parts]);
    block.dispose();
    plain.dispose();
    expectNoLeak(before);
  });
});

describe('save / load and training', () => {
  function gptModel(): Model {
    const inp = input({ shape: [6], dtype: 'int32' });
    let h = layers.tokenAndPositionEmbedding({ vocabSize: 9, maxLength: 6, embeddingDim: 8, maskZero: true }).apply(inp);
    h = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16, normFirst: true, dropout: 0.1, seed: 3, rotary: true }).apply(h, { useCausalMask: true });
    h = layers.transformerDecoder({ numHeads: 2, intermediateDim: 16 }).apply(h);
    const out = layers.dense({ units: 9, activation: 'softmax' }).apply(h);
    return model({ inputs: inp, outputs: out });
  }

  it('round-trips a functional model with every new layer (config, causal call option, weights, predictions)', async () => {
    const before = snapshot();
    const m = gptModel();
    const x = tensor([[1, 2, 3, 4, 0, 0], [5, 6, 7, 8, 1, 2]], [2, 6], 'int32');
    const y = m.predict(x) as Tensor;
    const { modelJson, weights } = await modelToArtifacts(m);
    const back = await loadModelFromArtifacts({ modelJson: JSON.stringify(modelJson), weights });
    expect(back.weightEntries.map((w) => w.name)).toEqual(m.weightEntries.map((w) => w.name));
    const yb = back.predict(x) as Tensor;
    expect(await maxAbsDiff(y, yb)).toBe(0);
    // The causal option replays after loading: position 0 ignores later tokens.
    const x2 = tensor([[1, 8, 8, 8, 8, 8], [5, 6, 7, 8, 1, 2]], [2, 6], 'int32');
    const y2 = back.predict(x2) as Tensor;
    const first = (t: Tensor): Tensor => slice(t, [0, 0, 0], [1, 1, 9]);
    const [f1, f2] = [first(yb), first(y2)];
    expect(await maxAbsDiff(f1, f2)).toBeLessThan(1e-6);
    const seq = sequential([
      layers.tokenAndPositionEmbedding({ vocabSize: 9, maxLength: 6, embeddingDim: 8, inputShape: [6] }),
      layers.sinusoidalPositionEncoding({ maxLength: 6 }),
      layers.positionEmbedding({ maxLength: 6 }),
      layers.multiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 5 }),
      layers.rotaryEmbedding({ maxWavelength: 500 }),
    ]);
    const s1 = seq.predict(x) as Tensor;
    const art = await modelToArtifacts(seq);
    const seqBack = await loadModelFromArtifacts(art);
    const s2 = seqBack.predict(x) as Tensor;
    expect(await maxAbsDiff(s1, s2)).toBe(0);
    dispose([x, y, yb, x2, y2, f1, f2, s1, s2]);
    for (const mm of [m, back, seq, seqBack]) mm.dispose();
    expectNoLeak(before);
  });

  it('trains a tiny GPT-style model with fit (loss falls) and leaves memory flat', async () => {
    const before = snapshot();
    const m = gptModel();
    const opt = adam({ learningRate: 0.01 });
    m.compile({ optimizer: opt, loss: 'sparse_categorical_crossentropy' });
    // Next-token prediction on a repeating pattern.
    const rows = 16;
    const xs: number[] = [];
    const ys: number[] = [];
    for (let r = 0; r < rows; r++) for (let t = 0; t < 6; t++) {
      xs.push(1 + ((r + t) % 8));
      ys.push(1 + ((r + t + 1) % 8));
    }
    const x = tensor(xs, [rows, 6], 'int32');
    const y = tensor(ys, [rows, 6], 'int32');
    const hist = await m.fit(x, y, { epochs: 50, batchSize: 8, verbose: 0, seed: 1 });
    const loss = hist.history.loss as number[];
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]! * 0.5);
    dispose([x, y]);
    m.dispose();
    opt.dispose(); // an optimizer instance stays the caller's
    expectNoLeak(before);
  });
});

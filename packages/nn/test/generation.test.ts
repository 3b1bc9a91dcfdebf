import { add, ArgumentError, DTypeError, dispose, oneHot, ShapeError, tensor, type Tensor, tidy, zeros } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dense, Embedding, generate, greedy, KVCache, MultiHeadAttention, pickToken, type StepContext, TokenSampler, topKFilter, topPFilter } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(() => useTestBackend());

const NEG = -Infinity;
const rows = (t: Tensor): number[][] => t.arraySync() as number[][];

describe('top-k / top-p filters', () => {
  it('top-k keeps exactly the k largest logits (ties keep the lower ids)', () => {
    const before = snapshot();
    const x = tensor([
      [1, 3, 2, 0],
      [5, 5, 5, 1],
      [-1, -2, -3, -4],
    ]);
    const y = topKFilter(x, 2);
    expect(rows(y)).toEqual([
      [NEG, 3, 2, NEG],
      [5, 5, NEG, NEG],
      [-1, -2, NEG, NEG],
    ]);
    const all = topKFilter(x, 10);
    expect(rows(all)).toEqual(rows(x));
    dispose([x, y, all]);
    expectNoLeak(before);
  });

  it('top-p keeps the fewest most likely tokens whose probability reaches p', () => {
    const before = snapshot();
    // probabilities 0.5, 0.3, 0.15, 0.05 (scrambled order)
    const p = [0.15, 0.5, 0.05, 0.3];
    const x = tensor([p.map(Math.log)]);
    const keep = (q: number): number[] => {
      const y = topPFilter(x, q);
      const kept = rows(y)[0]!.flatMap((v, i) => (v === NEG ? [] : [i]));
      y.dispose();
      return kept;
    };
    expect(keep(0.45)).toEqual([1]);
    expect(keep(0.75)).toEqual([1, 3]);
    expect(keep(0.81)).toEqual([0, 1, 3]);
    expect(keep(0.96)).toEqual([0, 1, 2, 3]);
    expect(keep(1)).toEqual([0, 1, 2, 3]);
    // The kept logits are unchanged.
    const y = topPFilter(x, 0.75);
    expect(rows(y)[0]![3]).toBeCloseTo(Math.log(0.3), 6);
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('rejects bad k, p and logits with typed errors', () => {
    const x = tensor([[1, 2]]);
    expect(() => topKFilter(x, 0)).toThrow(ArgumentError);
    expect(() => topPFilter(x, 0)).toThrow(/p must be in \(0, 1\]/);
    expect(() => topPFilter(x, 1.5)).toThrow(ArgumentError);
    const i = tensor([[1, 2]], undefined, 'int32');
    expect(() => topKFilter(i, 1)).toThrow(DTypeError);
    const r4 = zeros([1, 1, 1, 2]);
    expect(() => topKFilter(r4, 1)).toThrow(ShapeError);
    const nan = tensor([[0, NaN]]);
    expect(() => topKFilter(nan, 1)).toThrow(/logits hold NaN at index 1/);
    dispose([x, i, r4, nan]);
  });
});

describe('TokenSampler', () => {
  it('greedy picks the argmax of each row (last position of [batch, T, vocab])', async () => {
    const before = snapshot();
    const x = tensor([
      [0.1, 2, 0.5],
      [3, 1, 3],
    ]);
    expect(await greedy(x)).toEqual([1, 0]);
    const seq = tensor([
      [
        [9, 0, 0],
        [0, 0, 1],
      ],
    ]);
    expect(await greedy(seq)).toEqual([2]);
    const zeroTemp = new TokenSampler({ temperature: 0, seed: 3 });
    expect(await zeroTemp.sample(x)).toEqual([1, 0]);
    dispose([x, seq]);
    expectNoLeak(before);
  });

  it('draws only top-k / top-p candidates, at their renormalised frequencies', () => {
    const logits = [0.15, 0.5, 0.05, 0.3].map(Math.log);
    const count = (s: TokenSampler, n: number): number[] => {
      const c = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) c[s.sampleRow(logits)]!++;
      return c;
    };
    const n = 4000;
    const k2 = count(new TokenSampler({ topK: 2, seed: 1 }), n);
    expect(k2[0]).toBe(0);
    expect(k2[2]).toBe(0);
    expect(k2[1]! / n).toBeCloseTo(0.5 / 0.8, 1);
    const p75 = count(new TokenSampler({ topP: 0.75, seed: 2 }), n);
    expect([p75[0], p75[2]]).toEqual([0, 0]);
    expect(p75[3]! / n).toBeCloseTo(0.3 / 0.8, 1);
    const full = count(new TokenSampler({ seed: 3 }), n);
    full.forEach((c, i) => expect(c / n).toBeCloseTo([0.15, 0.5, 0.05, 0.3][i]!, 1));
    // Temperature 0.25 raises probabilities to the 4th power: 0.5 dominates.
    const cold = count(new TokenSampler({ temperature: 0.25, seed: 4 }), n);
    expect(cold[1]! / n).toBeGreaterThan(0.85);
    // top-k then top-p: k = 3 leaves 0.5/0.95, 0.3/0.95, 0.15/0.95; p = 0.6 keeps the first two.
    const both = count(new TokenSampler({ topK: 3, topP: 0.6, seed: 5 }), n);
    expect([both[0], both[2]]).toEqual([0, 0]);
  });

  it('the same seed gives the same tokens; another seed, other tokens', async () => {
    const before = snapshot();
    const x = tensor([
      [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
      [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0],
    ]);
    const draw = async (seed: number): Promise<number[]> => {
      const s = new TokenSampler({ temperature: 1.5, topK: 6, topP: 0.95, seed });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push(...(await s.sample(x)));
      return out;
    };
    const a = await draw(7);
    expect(await draw(7)).toEqual(a);
    expect(await draw(8)).not.toEqual(a);
    dispose(x);
    expectNoLeak(before);
  });

  it('pickToken with u at the edges stays within the candidates', () => {
    const o = { temperature: 1, topK: 2, topP: 1 };
    expect(pickToken([0, 5, 4, 1], o, 0)).toBe(1);
    expect(pickToken([0, 5, 4, 1], o, 0.999999999)).toBe(2);
  });

  it('rejects bad options and logits', async () => {
    expect(() => new TokenSampler({ temperature: -1 })).toThrow(ArgumentError);
    expect(() => new TokenSampler({ topK: 1.5 })).toThrow(/topK must be a positive integer/);
    expect(() => new TokenSampler({ topP: 0 })).toThrow(/topP must be in \(0, 1\]/);
    expect(() => new TokenSampler({ seed: -3 })).toThrow(/seed must be a non-negative safe integer/);
    const s = new TokenSampler({ seed: 1 });
    expect(() => s.sampleRow([NEG, NEG])).toThrow(/every logit of a row is -Infinity/);
    expect(() => s.sampleRow([0, Infinity])).toThrow(ArgumentError);
    const empty = zeros([2, 0]);
    await expect(s.sample(empty)).rejects.toThrow(ShapeError);
    dispose(empty);
  });
});

describe('generate', () => {
  // A "counting" model: the next token is (last + 1) mod V, with certainty.
  const V = 6;
  const counting =
    (calls: [number[], number][]) =>
    (tokens: Tensor, ctx: StepContext): Tensor => {
      calls.push([tokens.shape.slice(), ctx.startIndex]);
      const [b, t] = tokens.shape as [number, number];
      const data = tokens.dataSync();
      const next = tensor(Int32Array.from({ length: b }, (_, r) => (data[r * t + t - 1]! + 1) % V), [b, 1], 'int32');
      return oneHot(next, V, 10, 0); // [b, 1, V]; generate's tidy frees `next`
    };

  it('feeds the prompt once then one token per step with a cache, the whole sequence without', async () => {
    const before = snapshot();
    const withCache: [number[], number][] = [];
    const a = await generate(counting(withCache), [[1, 2]], { maxNewTokens: 4, temperature: 0 });
    expect(a).toEqual([[1, 2, 3, 4, 5, 0]]);
    expect(withCache).toEqual([
      [[1, 2], 0],
      [[1, 1], 2],
      [[1, 1], 3],
      [[1, 1], 4],
    ]);
    const noCache: [number[], number][] = [];
    const b = await generate(counting(noCache), [[1, 2]], { maxNewTokens: 4, temperature: 0, useCache: false });
    expect(b).toEqual(a);
    expect(noCache.map((c) => c[0][1])).toEqual([2, 3, 4, 5]);
    expect(noCache.every((c) => c[1] === 0)).toBe(true);
    expectNoLeak(before);
  });

  it('stops rows at eos, at maxLength, and keeps batch rows independent', async () => {
    const calls: [number[], number][] = [];
    const out = await generate(
      counting(calls),
      [
        [0, 1],
        [3, 3],
      ],
      { maxNewTokens: 10, temperature: 0, eosId: 5 },
    );
    // Row 0 counts 2, 3, 4, 5 (eos, kept) and stops; row 1 stops at once after 4, 5.
    expect(out).toEqual([
      [0, 1, 2, 3, 4, 5],
      [3, 3, 4, 5],
    ]);
    expect(calls).toHaveLength(4);
    const capped = await generate(counting([]), [1], { maxNewTokens: 10, temperature: 0, maxLength: 4 });
    expect(capped).toEqual([[1, 2, 3, 4]]);
    const seen: number[][] = [];
    await generate(counting([]), [[0], [4]], { maxNewTokens: 3, temperature: 0, eosId: 5, onStep: (_s, t) => void seen.push([...t]) });
    expect(seen).toEqual([
      [1, 5],
      [2, -1],
      [3, -1],
    ]);
  });

  it('rejects bad prompts, options and step functions', async () => {
    const step = counting([]);
    await expect(generate(step, [], {})).rejects.toThrow(/at least one token/);
    await expect(generate(step, [[1, 2], [3]], {})).rejects.toThrow(/same length/);
    await expect(generate(step, [1.5], {})).rejects.toThrow(/non-negative integer token id/);
    await expect(generate(step, [1], { maxNewTokens: -1 })).rejects.toThrow(ArgumentError);
    await expect(generate(step, [1, 2, 3], { maxLength: 2 })).rejects.toThrow(/more than maxLength 2/);
    await expect(generate(step, [1], { topP: 2 })).rejects.toThrow(/topP must be in/);
    await expect(generate(null as never, [1], {})).rejects.toThrow(/step must be a function/);
    const before = snapshot();
    await expect(generate((x) => x, [1], {})).rejects.toThrow(/returned its input/);
    expectNoLeak(before);
  });

  it('decodes identical tokens with and without the KV cache (a causal attention decoder)', async () => {
    const vocab = 11;
    const emb = new Embedding({ inputDim: vocab, outputDim: 16, embeddingsInitializer: 'random_normal' });
    const pos = new Embedding({ inputDim: 32, outputDim: 16, embeddingsInitializer: 'random_normal' });
    const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 8 });
    const head = new Dense({ units: vocab });
    const step = (tokens: Tensor, ctx: StepContext): Tensor => {
      const t = tokens.shape[1]!;
      const positions = tensor(Int32Array.from({ length: t }, (_, i) => ctx.startIndex + i), [1, t], 'int32');
      const x = add(emb.apply(tokens), pos.apply(positions));
      const h = mha.apply(x, { useCausalMask: true, cache: ctx.cache?.layer(0) } as never);
      return head.apply(add(x, h as Tensor));
    };
    // Build the layers, then take the snapshot (weights stay alive).
    tidy(() => step(tensor([[1]], undefined, 'int32'), { cache: null, startIndex: 0 }));
    const before = snapshot();
    const prompt = [
      [1, 4, 2],
      [3, 3, 7],
    ];
    for (const o of [{ temperature: 0 }, { temperature: 1.2, topK: 5, seed: 11 }, { topP: 0.9, seed: 12 }]) {
      const cached = await generate(step, prompt, { ...o, maxNewTokens: 12, useCache: true });
      const full = await generate(step, prompt, { ...o, maxNewTokens: 12, useCache: false });
      expect(cached).toEqual(full);
      expect(cached[0]).toHaveLength(15);
    }
    expectNoLeak(before);
    // A cache handed to the step is disposed by generate; a caller's own cache is theirs.
    const own = new KVCache();
    tidy(() => step(tensor([[1, 2]], undefined, 'int32'), { cache: own, startIndex: 0 }));
    expect(own.length).toBe(2);
    own.dispose();
    for (const l of [emb, pos, mha, head]) l.dispose();
  });
});

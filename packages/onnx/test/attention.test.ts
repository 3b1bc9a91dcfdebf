// MultiHeadAttention, the transformer blocks, position layers, padding masks and LoRA adapters:
// exported, run in ONNX Runtime at two batch sizes and two sequence lengths, against predict.
import { type Tensor, tensor } from '@tessera/core';
import { type Dense, input, layers, loraAdapter, model, type SymbolicTensor } from '@tessera/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOnnx, exportOnnx, OnnxExportError } from '../src/index.js';
import { expectNoLeak, expectRoundTrip, randomizeWeights, randomTensor, rng, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

const sym = (x: unknown): SymbolicTensor => x as SymbolicTensor;
let seed = 500;

/** Token ids in [1, vocab) with trailing padding (0) of a different length on each row. */
function paddedIds(n: number, t: number, vocab: number): Tensor {
  const r = rng(seed++);
  const data = new Int32Array(n * t);
  for (let i = 0; i < n; i++) {
    const len = 1 + ((i * 3) % t);
    for (let j = 0; j < t; j++) data[i * t + j] = j < len ? 1 + Math.floor(r() * (vocab - 1)) : 0;
  }
  return tensor(data, [n, t], 'int32');
}

describe('MultiHeadAttention', () => {
  it('self-attention over a variable sequence length (batch 2 × 5 positions, batch 3 × 8)', async () => {
    const before = snapshot();
    const x = input({ shape: [null, 6], name: 'x' });
    const m = model({ inputs: x, outputs: sym(layers.multiHeadAttention({ numHeads: 2, keyDim: 4 }).apply(x)) });
    randomizeWeights(m, seed++);
    const bytes = await expectRoundTrip(m, [[randomTensor([2, 5, 6], seed++)], [randomTensor([3, 8, 6], seed++)]]);
    expect(checkOnnx(bytes).inputs[0]!.shape).toEqual(['batch', 'x_d1', 6]);
    m.dispose();
    expectNoLeak(before);
  });

  it('causal self-attention (useCausalMask) with valueDim and outputDim', async () => {
    const before = snapshot();
    const x = input({ shape: [null, 5] });
    const y = layers.multiHeadAttention({ numHeads: 3, keyDim: 2, valueDim: 3, outputDim: 4 }).apply(x, { useCausalMask: true });
    const m = model({ inputs: x, outputs: sym(y) });
    randomizeWeights(m, seed++);
    const bytes = await expectRoundTrip(m, [[randomTensor([2, 4, 5], seed++)], [randomTensor([1, 7, 5], seed++)]]);
    expect(checkOnnx(bytes).opTypes.LessOrEqual).toBe(1);
    m.dispose();
    expectNoLeak(before);
  });

  it('cross-attention [query, value] and [query, value, key] with attention scores as a second output', async () => {
    const before = snapshot();
    const q = input({ shape: [null, 4], name: 'q' });
    const v = input({ shape: [null, 3], name: 'v' });
    const k = input({ shape: [null, 5], name: 'k' });
    const a = layers.multiHeadAttention({ numHeads: 2, keyDim: 3, useBias: false }).apply([q, v]);
    const [b, scores] = layers.multiHeadAttention({ numHeads: 2, keyDim: 2, name: 'with_scores' }).applyAll([q, v, k], { returnAttentionScores: true }) as SymbolicTensor[];
    const m = model({ inputs: [q, v, k], outputs: [sym(a), b!, scores!] });
    randomizeWeights(m, seed++);
    const batch = (n: number, tq: number, tk: number) => [randomTensor([n, tq, 4], seed++), randomTensor([n, tk, 3], seed++), randomTensor([n, tk, 5], seed++)];
    await expectRoundTrip(m, [batch(2, 3, 6), batch(3, 5, 2)]);
    m.dispose();
    expectNoLeak(before);
  });

  it('padding masks from Embedding({ maskZero }) reach the attention (padded keys get weight 0)', async () => {
    const before = snapshot();
    const ids = input({ shape: [null], dtype: 'int32', name: 'ids' });
    const e = layers.embedding({ inputDim: 12, outputDim: 6, maskZero: true }).apply(ids);
    const h = layers.dense({ units: 6, activation: 'relu' }).apply(e); // passes the mask on
    const [y, w] = layers.multiHeadAttention({ numHeads: 2, keyDim: 3 }).applyAll(h, { returnAttentionScores: true }) as SymbolicTensor[];
    const m = model({ inputs: ids, outputs: [y!, w!] });
    randomizeWeights(m, seed++);
    const bytes = await expectRoundTrip(m, [[paddedIds(3, 5, 12)], [paddedIds(4, 7, 12)]]);
    expect(checkOnnx(bytes).opTypes.Not).toBe(1);
    m.dispose();
    expectNoLeak(before);
  });
});

describe('transformer blocks and position layers', () => {
  for (const normFirst of [false, true]) {
    it(`a small GPT (token+position embedding with maskZero, 2 causal ${normFirst ? 'pre' : 'post'}-norm encoder blocks, head)`, async () => {
      const before = snapshot();
      const ids = input({ shape: [null], dtype: 'int32', name: 'tokens' });
      let h = layers.tokenAndPositionEmbedding({ vocabSize: 17, maxLength: 12, embeddingDim: 8, maskZero: true }).apply(ids);
      for (let i = 0; i < 2; i++) h = layers.transformerEncoder({ numHeads: 2, intermediateDim: 16, normFirst, dropout: 0.1 }).apply(h, { useCausalMask: true });
      h = layers.layerNormalization({ epsilon: 1e-5 }).apply(h);
      const m = model({ inputs: ids, outputs: sym(layers.dense({ units: 17, name: 'logits' }).apply(h)) });
      randomizeWeights(m, seed++);
      await expectRoundTrip(m, [[paddedIds(2, 6, 17)], [paddedIds(3, 12, 17)]], {}, { rtol: 1e-5, atol: 2e-5 });
      m.dispose();
      expectNoLeak(before);
    });
  }

  it('an encoder-decoder: TransformerDecoder with memory (masked memory) and sinusoidal positions', async () => {
    const before = snapshot();
    const src = input({ shape: [null], dtype: 'int32', name: 'src' });
    const tgt = input({ shape: [null, 6], name: 'tgt' });
    const mem = layers.transformerEncoder({ numHeads: 2, intermediateDim: 12 }).apply(layers.embedding({ inputDim: 9, outputDim: 6, maskZero: true }).apply(src));
    const pos = layers.sinusoidalPositionEncoding({ maxLength: 16 }).apply(tgt);
    const x = layers.add().apply([tgt, pos]);
    const y = layers.transformerDecoder({ numHeads: 3, intermediateDim: 10, normFirst: true }).apply([x, mem]);
    const m = model({ inputs: [src, tgt], outputs: sym(y) });
    randomizeWeights(m, seed++);
    const batch = (n: number, ts: number, tt: number) => [paddedIds(n, ts, 9), randomTensor([n, tt, 6], seed++)];
    await expectRoundTrip(m, [batch(2, 5, 4), batch(3, 3, 7)], {}, { rtol: 1e-5, atol: 2e-5 });
    m.dispose();
    expectNoLeak(before);
  });

  it('PositionEmbedding and SinusoidalPositionEncoding (startIndex, no maxLength with a fixed length)', async () => {
    const before = snapshot();
    const x = input({ shape: [5, 4] });
    const p = layers.positionEmbedding({ maxLength: 9 }).apply(x, { startIndex: 2 } as never);
    const s = layers.sinusoidalPositionEncoding({ maxWavelength: 100 }).apply(x, { startIndex: 3 } as never);
    const m = model({ inputs: x, outputs: [sym(p), sym(s)] });
    randomizeWeights(m, seed++);
    await expectRoundTrip(m, [[randomTensor([2, 5, 4], seed++)], [randomTensor([1, 5, 4], seed++)]]);
    m.dispose();
    expectNoLeak(before);
  });

  it('an attention mask tensor or a KV cache in the recorded call gives OnnxExportError', async () => {
    const before = snapshot();
    const x = input({ shape: [3, 4] });
    const mask = tensor(new Uint8Array([1, 0, 0, 1, 1, 0, 1, 1, 1]), [3, 3], 'bool');
    const y = layers.multiHeadAttention({ numHeads: 1, keyDim: 2, name: 'masked_mha' }).apply(x, { attentionMask: mask });
    const m = model({ inputs: x, outputs: sym(y) });
    await expect(exportOnnx(m)).rejects.toMatchObject({ layerName: 'masked_mha', className: 'MultiHeadAttention' });
    await expect(exportOnnx(m)).rejects.toThrow(OnnxExportError);
    m.dispose();
    mask.dispose();
    expectNoLeak(before);
  });
});

describe('LoRA', () => {
  it('a Dense layer with an attached adapter exports base + scale·(x·A)·B, and merges to the same function', async () => {
    const before = snapshot();
    const x = input({ shape: [6] });
    const d = layers.dense({ units: 5, activation: 'gelu', name: 'adapted' });
    const m = model({ inputs: x, outputs: sym(layers.dense({ units: 3 }).apply(d.apply(x))) });
    const ad = loraAdapter(m.getLayer('adapted') as Dense, { rank: 2, alpha: 6 });
    randomizeWeights(m, seed++); // B is non-zero now, so the adapter changes the output
    const bytes = await expectRoundTrip(m, [[randomTensor([3, 6], seed++)], [randomTensor([2, 6], seed++)]]);
    expect(checkOnnx(bytes).opTypes.MatMul).toBe(4);
    ad.merge();
    const merged = await expectRoundTrip(m, [[randomTensor([3, 6], seed++)]]);
    expect(checkOnnx(merged).opTypes.MatMul).toBe(2);
    m.dispose();
    expectNoLeak(before);
  });
});

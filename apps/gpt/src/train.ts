/**
 * Training and evaluation of both models: `fit` over a stream of same-length batches with a
 * cosine learning-rate schedule, validation every round (exact per-character loss on the
 * held-out words), the training-curves chart, a checkpoint of the best model, and at the
 * end the numbers that matter: validation loss against the unigram baseline, tokens/s, and
 * for the GPT invented words decoded with and without the KV cache.
 * @module
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  adam,
  argmax,
  Callback,
  cast,
  cosineDecay,
  div,
  equal,
  generate,
  loadModel,
  type Logs,
  maximum,
  mul,
  noGrad,
  notEqual,
  ProgressBar,
  saveTokenizer,
  setSeed,
  sparseCategoricalCrossentropy,
  sum,
  type Tensor,
  tensor,
  tidy,
  TrainingCurves,
} from 'tessera';
import { type Options, useBackend } from './cli.js';
import { allBatches, bucketize, type HostBatch, lmPair, readWords, rng, splitCorpus, streamDataset, unigram, batchStream } from './data.js';
import { CharBERT, CharGPT, type TransformerConfig } from './models.js';

/** Longest word the models see (the list's longest is 28 letters); positions = bos + word + eos. */
export const MAX_WORD = 30;
const MAX_LENGTH = MAX_WORD + 2;

/** What a run reports. */
export interface RunResult {
  backend: string;
  model: 'gpt' | 'bert';
  params: number;
  /** Validation loss per round (nats per predicted character). */
  valLoss: number[];
  /** Final validation loss on every held-out word. */
  finalValLoss: number;
  /** Entropy of the validation targets: the loss of a model that ignores context. */
  unigramLoss: number;
  /** Training tokens (predicted characters) per second, validation excluded. */
  tokensPerSecond: number;
  /** BERT: masked-character accuracy, and the accuracy of always guessing the most frequent character. */
  maskedAccuracy?: number;
  baselineAccuracy?: number;
  /** GPT: the invented words, and whether decoding without the cache gave the same tokens. */
  samples?: string[];
  cacheIdentical?: boolean;
  /** GPT: decoding times with and without the cache (ms). */
  decodeMs?: { cached: number; uncached: number };
  outDir: string;
  curves: string;
}

/** Mean cross-entropy over the positions whose label is not 0 (pad), from logits. */
function maskedLoss(yTrue: Tensor, yPred: Tensor): Tensor {
  return tidy(() => {
    const w = cast(notEqual(yTrue, 0), 'float32');
    const per = sparseCategoricalCrossentropy(yTrue, yPred, { fromLogits: true, reduction: 'none' });
    return div(sum(mul(per, w)), maximum(sum(w), 1));
  });
}

/** Mean cross-entropy over every position, from logits. */
function lmLoss(yTrue: Tensor, yPred: Tensor, o?: { reduction?: 'mean' | 'sum' | 'none' }): Tensor {
  return sparseCategoricalCrossentropy(yTrue, yPred, { ...o, fromLogits: true });
}

/**
 * BERT inputs and labels for a batch: 15% of the characters of each word (at least one) are
 * chosen; 80% of those become `<mask>`, 10% a random character, 10% stay. Labels are the
 * original characters at chosen positions and 0 elsewhere.
 */
export function maskBatch(b: HostBatch, next: () => number, maskId: number, charIds: readonly number[]): [Int32Array, Int32Array] {
  const x = Int32Array.from(b.ids);
  const y = new Int32Array(b.ids.length);
  const n = b.width - 2;
  for (let r = 0; r < b.rows; r++) {
    const base = r * b.width + 1;
    let chosen = 0;
    for (let j = 0; j < n; j++) {
      if (next() >= 0.15) continue;
      chosen++;
      pick(base + j);
    }
    if (chosen === 0) pick(base + Math.floor(next() * n));
  }
  return [x, y];

  function pick(i: number): void {
    y[i] = b.ids[i]!;
    const u = next();
    if (u < 0.8) x[i] = maskId;
    else if (u < 0.9) x[i] = charIds[Math.floor(next() * charIds.length)]!;
  }
}

/** Counts and entropy (nats) of the non-zero labels (the masked characters). */
function maskedUnigram(labels: readonly Int32Array[], vocabSize: number): { counts: Float64Array; total: number; entropy: number } {
  const counts = new Float64Array(vocabSize);
  let total = 0;
  for (const y of labels) {
    for (const t of y) {
      if (t === 0) continue;
      counts[t]!++;
      total++;
    }
  }
  let entropy = 0;
  for (const c of counts) if (c > 0) entropy -= (c / total) * Math.log(c / total);
  return { counts, total, entropy };
}

/** Loss (sum over predicted positions) and correct predictions of one batch, read on the host. */
async function evalBatch(model: CharGPT | CharBERT, x: Tensor, y: Tensor, masked: boolean): Promise<[number, number, number]> {
  const [lossT, rightT, countT] = noGrad(() =>
    tidy(() => {
      const logits = model.call(x, { training: false });
      const per = sparseCategoricalCrossentropy(y, logits, { fromLogits: true, reduction: 'none' });
      const w = masked ? cast(notEqual(y, 0), 'float32') : null;
      const hit = cast(equal(cast(argmax(logits, -1), 'int32'), y), 'float32');
      return [w ? sum(mul(per, w)) : sum(per), w ? sum(mul(hit, w)) : sum(hit), w ? sum(w) : tensor(y.size)] as Tensor[];
    }),
  );
  try {
    const [l, h, c] = await Promise.all([lossT!.data(), rightT!.data(), countT!.data()]);
    return [l[0]!, h[0]!, c[0]!];
  } finally {
    lossT!.dispose();
    rightT!.dispose();
    countT!.dispose();
  }
}

/** Per-position mean loss and accuracy over host batches (inputs/labels made by `make`). */
async function evaluate(model: CharGPT | CharBERT, batches: readonly HostBatch[], make: (b: HostBatch, i: number) => [Tensor, Tensor], masked: boolean): Promise<{ loss: number; accuracy: number }> {
  let loss = 0;
  let right = 0;
  let count = 0;
  for (let i = 0; i < batches.length; i++) {
    const [x, y] = make(batches[i]!, i);
    try {
      const [l, h, c] = await evalBatch(model, x, y, masked);
      loss += l;
      right += h;
      count += c;
    } finally {
      x.dispose();
      y.dispose();
    }
  }
  return { loss: loss / Math.max(1, count), accuracy: right / Math.max(1, count) };
}

/** Validates after each round, before the progress bar and the chart see the logs; times training. */
class Rounds extends Callback {
  trainMs = 0;
  readonly valLoss: number[] = [];
  private t0 = 0;
  constructor(private readonly validate: () => Promise<Logs>) {
    super();
  }
  override onEpochBegin(): void {
    this.t0 = performance.now();
  }
  override async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> {
    // fit has read the round's loss already, so the work of its steps is done.
    this.trainMs += performance.now() - this.t0;
    const v = await this.validate();
    Object.assign(logs, v);
    this.valLoss.push(v.val_loss!);
  }
}

/**
 * Trains the chosen model as `o` says and reports (see {@link RunResult}).
 * @example const r = await run({ ...defaults(), steps: 50, verbose: 0 })
 */
export async function run(o: Options): Promise<RunResult> {
  const backend = await useBackend(o.backend);
  setSeed(o.seed);
  const corpus = splitCorpus(await readWords(), { valWords: o.valWords, trainWords: o.trainWords, seed: o.seed, maxWordLength: MAX_WORD });
  const tok = corpus.tokenizer;
  const trainBuckets = bucketize(tok, corpus.train);
  const valBuckets = bucketize(tok, corpus.val);
  const isGpt = o.model === 'gpt';
  o.print(
    `Backend: ${backend}. ${corpus.train.length} training words, ${corpus.val.length} validation words, ${tok.vocabSize} tokens (${tok.chars.length} characters + ${tok.specialIds.length} special).`,
  );

  const config: TransformerConfig = { vocabSize: tok.vocabSize, maxLength: MAX_LENGTH, dModel: o.dModel, numLayers: o.layers, numHeads: o.heads, intermediateDim: o.intermediateDim };
  const model = isGpt ? new CharGPT(config) : new CharBERT(config);
  const evalEvery = Math.min(o.steps, o.evalEvery ?? Math.max(1, Math.ceil(o.steps / 10)));
  const rounds = Math.ceil(o.steps / evalEvery);
  const warmup = Math.min(50, Math.floor(o.steps / 10));
  const optimizer = adam({ learningRate: cosineDecay({ initialLearningRate: o.learningRate / 10, warmupTarget: o.learningRate, warmupSteps: warmup, decaySteps: Math.max(1, o.steps - warmup), alpha: 0.1 }), clipNorm: 1 });
  mkdirSync(o.out, { recursive: true });
  const curves = path.join(o.out, 'curves.svg');
  try {
    model.summary(o.print);
    model.compile({ optimizer, loss: isGpt ? lmLoss : maskedLoss });

    // Batches: GPT predicts each next character; BERT the masked ones (fresh masks each time).
    const maskId = tok.maskId!;
    const charIds = tok.chars.map((c) => tok.tokenToId(c)!);
    const maskRng = rng(o.seed + 17);
    let trainTokens = 0;
    const makeTrain = (b: HostBatch): [Tensor, Tensor] => {
      if (isGpt) {
        trainTokens += b.rows * (b.width - 1);
        return lmPair(b);
      }
      const [x, y] = maskBatch(b, maskRng, maskId, charIds);
      trainTokens += b.rows * b.width;
      return [tensor(x, [b.rows, b.width], 'int32'), tensor(y, [b.rows, b.width], 'int32')];
    };
    const ds = streamDataset(batchStream(trainBuckets, o.batchSize, o.seed), makeTrain);

    // Validation: a fixed subset each round (fast), every held-out word at the end. BERT's
    // validation masks are fixed by a seed, so rounds compare like with like.
    const valAll = allBatches(valBuckets, 256);
    const valMasks = (() => {
      const r = rng(o.seed + 99);
      return valAll.map((b) => maskBatch(b, r, maskId, charIds));
    })();
    const makeVal = (b: HostBatch, i: number): [Tensor, Tensor] =>
      isGpt ? lmPair(b) : [tensor(valMasks[i]![0], [b.rows, b.width], 'int32'), tensor(valMasks[i]![1], [b.rows, b.width], 'int32')];
    const roundSubset = valAll.filter((_, i) => i % 2 === 0);
    const validate = async (): Promise<Logs> => {
      const v = await evaluate(model, roundSubset, (b) => makeVal(b, valAll.indexOf(b)), !isGpt);
      return isGpt ? { val_loss: v.loss } : { val_loss: v.loss, val_masked_accuracy: v.accuracy };
    };

    // The unigram baseline: the entropy of what is predicted on the validation words (every
    // next character and eos for the GPT; the characters at the masked positions for BERT).
    const stats = isGpt ? unigram(valBuckets, tok.vocabSize) : maskedUnigram(valMasks.map((m) => m[1]), tok.vocabSize);
    const title = isGpt ? `Character GPT on the English word list (${backend})` : `Character BERT, masked characters (${backend})`;
    const timer = new Rounds(validate);
    let best = Infinity;
    const checkpoint = new (class extends Callback {
      override async onEpochEnd(_e: number, logs: Logs = {}): Promise<void> {
        if (logs.val_loss! < best) {
          best = logs.val_loss!;
          await model.save(o.out);
        }
      }
    })();
    const callbacks = [timer, ...(o.verbose === 0 ? [] : [new ProgressBar()]), new TrainingCurves(curves, { title }), checkpoint];
    o.print(`Training ${model.countParams().toLocaleString('en-US')} parameters for ${o.steps} steps of ${o.batchSize} words (${rounds} rounds of ${evalEvery}; the checkpoint keeps the best validation loss).`);
    await model.fit(ds, { epochs: rounds, stepsPerEpoch: evalEvery, verbose: o.verbose, callbacks });
    await saveTokenizer(tok, path.join(o.out, 'tokenizer.json'));

    // The checkpoint (best round) is what we evaluate and sample from: it proves the save.
    const saved = await loadModel(o.out, { customLayers: { CharGPT, CharBERT }, compile: false });
    const best_ = saved as CharGPT | CharBERT;
    try {
      const final = await evaluate(best_, valAll, makeVal, !isGpt);
      const tokensPerSecond = trainTokens / (timer.trainMs / 1000);
      const result: RunResult = {
        backend,
        model: o.model,
        params: model.countParams(),
        valLoss: timer.valLoss,
        finalValLoss: final.loss,
        unigramLoss: stats.entropy,
        tokensPerSecond,
        outDir: o.out,
        curves,
      };
      const what = isGpt ? 'next character' : 'masked character';
      o.print(
        `Validation loss (${what}, ${corpus.val.length} words): ${final.loss.toFixed(4)} nats vs unigram baseline ${stats.entropy.toFixed(4)} nats (${((1 - final.loss / stats.entropy) * 100).toFixed(1)}% lower); ${Math.round(tokensPerSecond).toLocaleString('en-US')} tokens/s training on ${backend}.`,
      );
      if (!isGpt) {
        // Always guessing the most frequent training character (the validation labels decide nothing).
        const trainStats = unigram(trainBuckets, tok.vocabSize);
        const mostFrequent = charIds.reduce((a, b) => (trainStats.counts[b]! > trainStats.counts[a]! ? b : a));
        result.maskedAccuracy = final.accuracy;
        result.baselineAccuracy = stats.counts[mostFrequent]! / stats.total;
        o.print(`Masked-character accuracy: ${(final.accuracy * 100).toFixed(1)}% vs ${(result.baselineAccuracy * 100).toFixed(1)}% for always guessing '${tok.idToToken(mostFrequent)}'.`);
      } else {
        const gpt = best_ as CharGPT;
        const prompt = Array.from({ length: o.samples }, () => [tok.bosId!]);
        const gen = { maxNewTokens: MAX_LENGTH - 1, maxLength: MAX_LENGTH, eosId: tok.eosId, temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed };
        let t = performance.now();
        const cached = o.samples > 0 ? await generate(gpt.step(), prompt, { ...gen, useCache: true }) : [];
        const cachedMs = performance.now() - t;
        t = performance.now();
        const uncached = o.samples > 0 ? await generate(gpt.step(), prompt, { ...gen, useCache: false }) : [];
        const uncachedMs = performance.now() - t;
        result.cacheIdentical = JSON.stringify(cached) === JSON.stringify(uncached);
        result.decodeMs = { cached: cachedMs, uncached: uncachedMs };
        const known = new Set(corpus.train.concat(corpus.val));
        result.samples = cached.map((s) => tok.decode(s));
        o.print(`Invented words (temperature ${o.temperature}${o.topK ? `, top-k ${o.topK}` : ''}${o.topP < 1 ? `, top-p ${o.topP}` : ''}; * = in the word list):`);
        o.print(`  ${result.samples.map((w) => (w === '' ? '(empty)' : known.has(w) ? `${w}*` : w)).join('  ')}`);
        o.print(
          `KV cache: ${result.cacheIdentical ? 'identical tokens' : 'DIFFERENT tokens'} with and without it (${cachedMs.toFixed(0)} ms vs ${uncachedMs.toFixed(0)} ms for ${o.samples} words).`,
        );
      }
      o.print(`Saved the best checkpoint, tokenizer.json and curves.svg to ${o.out}.`);
      return result;
    } finally {
      saved.dispose();
    }
  } finally {
    model.dispose();
    optimizer.dispose?.();
  }
}

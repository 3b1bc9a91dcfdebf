/**
 * Transfer learning on MNIST: pretrain an MLP on digits 0–4, save it, load it back, freeze
 * its hidden layers, put a new head on them and fine-tune on a few hundred images of digits
 * 5–9; compare with the same small set trained from scratch, with a second stage that
 * unfreezes the base at a lower learning rate, and with LoRA adapters.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  adam,
  applyLora,
  dispose,
  gather,
  input,
  layers,
  loadMnist,
  loadModel,
  type Model,
  model,
  saveLoraAdapters,
  setSeed,
  type SymbolicTensor,
  type Tensor,
  tensor,
  toCategorical,
} from 'tessera';

/** Options of {@link runMnistTransfer}. */
export interface MnistTransferOptions {
  /** Images of digits 5–9 to fine-tune on (default 200). */
  smallSize?: number;
  /** MNIST training images scanned for the 0–4 pretraining set (default 12000, ~6.1k of 0–4). */
  pretrainPool?: number;
  /** Pretraining epochs (default 2). */
  pretrainEpochs?: number;
  /** Epochs on the small set, the same for every variant (default 20). */
  epochs?: number;
  /** MNIST test images scanned for the 5–9 test set (default 5000, ~2.4k of 5–9). */
  testPool?: number;
  /** The network (default cnn: its convolution features carry over from 0–4 to 5–9). */
  arch?: Arch;
  /** Seed of weights and shuffling (default 0). */
  seed?: number;
  /** Where the pretrained model is saved (default a temporary folder, removed afterwards). */
  saveDir?: string;
  print?: (line: string) => void;
}

/** Accuracies on the 5–9 test images, and what each variant trained. */
export interface MnistTransferResult {
  pretrainAccuracy04: number;
  scratch: number;
  frozenBase: number;
  unfrozen: number;
  lora: number;
  trainable: { scratch: number; frozenBase: number; lora: number };
  adapterBytes: number;
  testCount: number;
  smallSize: number;
}

/** The rows of `images` whose label is in [lo, hi], at most `limit`, labels shifted to 0-based. */
async function pick(images: Tensor, labels: Tensor, lo: number, hi: number, limit: number): Promise<{ x: Tensor; y: Tensor; n: number }> {
  const ls = (await labels.data()) as Int32Array;
  const idx: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < ls.length && idx.length < limit; i++) {
    if (ls[i]! >= lo && ls[i]! <= hi) {
      idx.push(i);
      ys.push(ls[i]! - lo);
    }
  }
  const it = tensor(Int32Array.from(idx), [idx.length], 'int32');
  const lt = tensor(Int32Array.from(ys), [ys.length], 'int32');
  const x = gather(images, it, 0);
  const y = toCategorical(lt, hi - lo + 1);
  dispose([it, lt]);
  return { x, y, n: idx.length };
}

/** The two architectures: layer names shared, so the scenario code is the same for both. */
export type Arch = 'mlp' | 'cnn';

/**
 * `mlp`: Flatten → hidden1 (128, relu) → hidden2 (64, relu) → head (5, softmax); base =
 * hidden1. `cnn`: conv1 (16, 3×3) → pool → conv2 (32, 3×3) → pool → flatten → hidden2 (64,
 * relu) → head (5, softmax); base = conv1, conv2. Fine-tuning freezes the base, keeps
 * `hidden2` trainable and replaces `head`.
 */
function build(arch: Arch, name: string): Model {
  const x = input({ shape: [28, 28], name: 'pixels' });
  let f: SymbolicTensor;
  if (arch === 'mlp') {
    f = layers.flatten({ name: 'flatten' }).apply(x);
    f = layers.dense({ units: 128, activation: 'relu', name: 'hidden1' }).apply(f);
  } else {
    f = layers.reshape({ targetShape: [28, 28, 1], name: 'to_nhwc' }).apply(x);
    f = layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', name: 'conv1' }).apply(f);
    f = layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(f);
    f = layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', name: 'conv2' }).apply(f);
    f = layers.maxPooling2d({ poolSize: 2, name: 'pool2' }).apply(f);
    f = layers.flatten({ name: 'flatten' }).apply(f);
  }
  const h2 = layers.dense({ units: 64, activation: 'relu', name: 'hidden2' }).apply(f);
  return model({ inputs: x, outputs: layers.dense({ units: 5, activation: 'softmax', name: 'head' }).apply(h2), name });
}

/** Rank of the LoRA adapters (alpha = 2·rank). */
const LORA_RANK = 8;

/** The frozen part of each architecture. */
const BASE: Record<Arch, string[]> = { mlp: ['hidden1'], cnn: ['conv1', 'conv2'] };

/** A new 5-way head on the loaded model's `hidden2` output (a new functional model). */
function withNewHead(base: Model, name: string): Model {
  const features = base.getLayer('hidden2').output as SymbolicTensor;
  const head = layers.dense({ units: 5, activation: 'softmax', name: 'head_5to9' }).apply(features);
  return model({ inputs: base.inputs, outputs: head, name });
}

const count = (m: Model): number => m.trainableWeights.reduce((n, v) => n + v.shape.reduce((a, b) => a * b, 1), 0);

async function accuracy(m: Model, x: Tensor, y: Tensor): Promise<number> {
  const r = await m.evaluate(x, y, { batchSize: 512 });
  return r.accuracy!;
}

/**
 * Runs the whole MNIST scenario and prints a comparison.
 * @example const r = await runMnistTransfer({ smallSize: 300 }); r.frozenBase > r.scratch
 */
export async function runMnistTransfer(o: MnistTransferOptions = {}): Promise<MnistTransferResult> {
  const print = o.print ?? console.log;
  const seed = o.seed ?? 0;
  const smallSize = o.smallSize ?? 200;
  const arch = o.arch ?? 'cnn';
  const frozen = BASE[arch];
  const epochs = o.epochs ?? 20;
  const data = await loadMnist({ train: o.pretrainPool ?? 12000, test: o.testPool ?? 5000 });
  const tmp = o.saveDir === undefined ? mkdtempSync(path.join(tmpdir(), 'tessera-finetune-')) : null;
  const dir = o.saveDir ?? path.join(tmp!, 'mnist-0to4');
  const owned: Tensor[] = [data.train.images, data.train.labels, data.test.images, data.test.labels];
  const fitArgs = { epochs, batchSize: 32, verbose: 0 as const, seed };
  try {
    // The data: 0–4 for pretraining; a small 5–9 set taken from the end of the pool (images
    // the pretraining never saw in any form); all 5–9 test images.
    const pre = await pick(data.train.images, data.train.labels, 0, 4, Infinity);
    const pre04Test = await pick(data.test.images, data.test.labels, 0, 4, Infinity);
    const smallPool = await pick(data.train.images, data.train.labels, 5, 9, smallSize);
    const test59 = await pick(data.test.images, data.test.labels, 5, 9, Infinity);
    owned.push(pre.x, pre.y, pre04Test.x, pre04Test.y, smallPool.x, smallPool.y, test59.x, test59.y);
    print(`MNIST transfer (${arch}): pretrain on ${pre.n} images of 0–4; fine-tune on ${smallPool.n} images of 5–9; test on ${test59.n} images of 5–9.`);

    // 1. Pretrain on 0–4 and save.
    setSeed(seed);
    const base = build(arch, 'mnist_0to4');
    base.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    await base.fit(pre.x, pre.y, { epochs: o.pretrainEpochs ?? 2, batchSize: 32, verbose: 0, seed });
    const pretrainAccuracy04 = await accuracy(base, pre04Test.x, pre04Test.y);
    await base.save(dir, { includeOptimizer: false });
    base.dispose();
    print(`  pretrained on 0–4: ${(100 * pretrainAccuracy04).toFixed(2)}% on the 0–4 test images; saved to ${dir}`);

    // 2. From scratch on the small set.
    setSeed(seed + 1);
    const scratchModel = build(arch, 'scratch');
    const opt0 = adam({ learningRate: 1e-3 });
    scratchModel.compile({ optimizer: opt0, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const scratchParams = count(scratchModel);
    await scratchModel.fit(smallPool.x, smallPool.y, fitArgs);
    const scratch = await accuracy(scratchModel, test59.x, test59.y);
    opt0.dispose();
    scratchModel.dispose();

    // 3. Load, freeze the base, replace the head, fine-tune the head.
    setSeed(seed + 2);
    const loaded = await loadModel(dir, { compile: false });
    for (const n of frozen) loaded.getLayer(n).trainable = false;
    const ft = withNewHead(loaded, 'finetuned');
    loaded.getLayer('head').dispose(); // the 0–4 head is not part of the new model
    const opt1 = adam({ learningRate: 3e-3 });
    ft.compile({ optimizer: opt1, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const frozenParams = count(ft);
    await ft.fit(smallPool.x, smallPool.y, fitArgs);
    const frozenBase = await accuracy(ft, test59.x, test59.y);

    // 4. Unfreeze the base and continue at a lower rate for the base (parameter groups).
    for (const n of frozen) ft.getLayer(n).trainable = true;
    const baseVars = frozen.flatMap((n) => ft.getLayer(n).trainableWeights);
    const opt2 = adam({ learningRate: 1e-3, paramGroups: [{ params: baseVars, learningRateScale: 0.1 }] });
    ft.compile({ optimizer: opt2, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    await ft.fit(smallPool.x, smallPool.y, { ...fitArgs, epochs: Math.max(1, Math.round(epochs / 3)) });
    const unfrozen = await accuracy(ft, test59.x, test59.y);
    opt1.dispose();
    opt2.dispose();
    ft.dispose();

    // 5. LoRA: the loaded base frozen, rank-8 adapters on both hidden layers, a new head.
    setSeed(seed + 3);
    const loaded2 = await loadModel(dir, { compile: false });
    const lm = withNewHead(loaded2, 'lora');
    loaded2.getLayer('head').dispose();
    applyLora(lm, { rank: LORA_RANK, alpha: 2 * LORA_RANK, targets: arch === 'mlp' ? ['hidden1', 'hidden2'] : ['hidden2'], seed }); // freezes every other layer...
    lm.getLayer('head_5to9').trainable = true; // ...but the new head trains too
    const opt3 = adam({ learningRate: 3e-3 });
    lm.compile({ optimizer: opt3, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const loraParams = count(lm);
    await lm.fit(smallPool.x, smallPool.y, fitArgs);
    const lora = await accuracy(lm, test59.x, test59.y);
    const adapterBytes = (await saveLoraAdapters(lm)).length;
    opt3.dispose();
    lm.dispose();

    const pct = (v: number) => `${(100 * v).toFixed(2)}%`.padStart(7);
    const more = Math.max(1, Math.round(epochs / 3));
    print(`  accuracy on the ${test59.n} test images of 5–9 after ${epochs} epochs on ${smallPool.n} images:`);
    const rows: [string, number, string][] = [
      ['from scratch', scratch, `${scratchParams} trainable weights`],
      [`pretrained, ${frozen.join(' + ')} frozen, new head`, frozenBase, `${frozenParams} trainable`],
      [`  then all unfrozen, base at 0.1x rate`, unfrozen, `+${more} epochs`],
      [`LoRA rank ${LORA_RANK} on ${arch === 'mlp' ? 'hidden1 + hidden2' : 'hidden2'}, new head`, lora, `${loraParams} trainable; adapters file ${adapterBytes} bytes`],
    ];
    for (const [what, acc, note] of rows) print(`    ${what.padEnd(42)} ${pct(acc)}   (${note})`);
    return {
      pretrainAccuracy04,
      scratch,
      frozenBase,
      unfrozen,
      lora,
      trainable: { scratch: scratchParams, frozenBase: frozenParams, lora: loraParams },
      adapterBytes,
      testCount: test59.n,
      smallSize: smallPool.n,
    };
  } finally {
    dispose(owned);
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A tabular fine-tuning scenario on the Breast Cancer Wisconsin (Diagnostic) data (shipped
 * in `data/`, see its README): a diagnosis model is trained at "hospital A"; "hospital B"
 * sees a different population and has only a few dozen labelled cases. The hospitals are a
 * real split of the data, by texture (the grey-level spread of the aspirate image, column 1):
 * A has the smoother half, B the coarser half — a covariate shift. Compared on B's held-out
 * cases: trained from scratch on B's few cases, A's model as is, A's model with its base
 * frozen and a new head fine-tuned on B's cases, and with LoRA adapters instead.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { adam, applyLora, dispose, hostRng, input, layers, loadCsv, type Model, model, setSeed, type SymbolicTensor, type Tensor, tensor, toCategorical } from 'tessera';

/** Options of {@link runTabular}. */
export interface TabularOptions {
  /** Labelled cases of hospital B to fine-tune on (default 20). */
  fewShot?: number;
  /** How many random draws of B's labelled cases to average over (default 5). */
  draws?: number;
  /** Epochs on those cases, the same for every variant (default 60). */
  epochs?: number;
  /** Epochs of hospital A's training (default 30). */
  pretrainEpochs?: number;
  /** Seed of weights, shuffling and the draws (default 0). */
  seed?: number;
  /** The CSV (default the copy shipped in `data/`). */
  csv?: string;
  print?: (line: string) => void;
}

/** The variants compared, in print order. */
export type TabularVariant = 'scratch' | 'asIs' | 'frozenBase' | 'endToEnd' | 'lora';

/** Mean accuracies on hospital B's held-out cases over the draws, and each draw's. */
export interface TabularResult {
  pretrainAccuracyA: number;
  mean: Record<TabularVariant, number>;
  perDraw: Record<TabularVariant, number>[];
  counts: { a: number; bTrain: number; bTest: number };
}

/** The shipped copy of the data, next to `src/` and `dist/`. */
export const BREAST_CANCER_CSV = fileURLToPath(new URL('../data/breast_cancer.csv', import.meta.url));

/** 30 features → base1 (32, relu) → base2 (16, relu) → diagnosis (2, softmax). */
function build(name: string): Model {
  const x = input({ shape: [30], name: 'measurements' });
  const h1 = layers.dense({ units: 32, activation: 'relu', name: 'base1' }).apply(x);
  const h2 = layers.dense({ units: 16, activation: 'relu', name: 'base2' }).apply(h1);
  return model({ inputs: x, outputs: layers.dense({ units: 2, activation: 'softmax', name: 'diagnosis' }).apply(h2), name });
}

/**
 * Runs the tabular scenario and prints the mean accuracy of each variant over several draws
 * of hospital B's labelled cases (one draw's 250-odd test cases move 0.4% per case, so a
 * single draw is too noisy to rank the variants).
 * @example const r = await runTabular({ fewShot: 20 }); r.mean.endToEnd > r.mean.scratch
 */
export async function runTabular(o: TabularOptions = {}): Promise<TabularResult> {
  const print = o.print ?? console.log;
  const seed = o.seed ?? 0;
  const fewShot = o.fewShot ?? 20;
  const draws = o.draws ?? 5;
  const epochs = o.epochs ?? 60;
  const data = await loadCsv(o.csv ?? BREAST_CANCER_CSV, { header: false, skipRows: 1, label: '30' });
  const feats = (await data.features.data()) as Float32Array;
  const labels = (await data.labels!.data()) as Int32Array;
  const [rows, cols] = data.features.shape as [number, number];
  dispose([data.features, data.labels!]);

  // The two hospitals: split at the median texture.
  const texture = Array.from({ length: rows }, (_, i) => feats[i * cols + 1]!);
  const median = [...texture].sort((p, q) => p - q)[Math.floor(rows / 2)]!;
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rows; i++) (texture[i]! < median ? a : b).push(i);

  // Standardise with hospital A's statistics (what the pretrained model was trained with).
  const mean = new Float64Array(cols);
  const sd = new Float64Array(cols);
  for (const i of a) for (let j = 0; j < cols; j++) mean[j]! += feats[i * cols + j]! / a.length;
  for (const i of a) for (let j = 0; j < cols; j++) sd[j]! += (feats[i * cols + j]! - mean[j]!) ** 2 / a.length;
  for (let j = 0; j < cols; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  const owned: Tensor[] = [];
  const make = (idx: number[]): { x: Tensor; y: Tensor } => {
    const xs = new Float32Array(idx.length * cols);
    idx.forEach((i, k) => {
      for (let j = 0; j < cols; j++) xs[k * cols + j] = (feats[i * cols + j]! - mean[j]!) / sd[j]!;
    });
    const l = tensor(Int32Array.from(idx.map((i) => labels[i]!)), [idx.length], 'int32');
    const out = { x: tensor(xs, [idx.length, cols]), y: toCategorical(l, 2) };
    l.dispose();
    owned.push(out.x, out.y);
    return out;
  };
  const acc = async (m: Model, d: { x: Tensor; y: Tensor }) => (await m.evaluate(d.x, d.y)).accuracy!;
  setSeed(seed); // before the first weights are drawn
  const pre = build('hospital_a');
  try {
    const A = make(a);
    print(`Breast-cancer diagnosis (UCI, 569 cases): hospital A ${a.length} cases (smoother texture), hospital B ${b.length} (coarser texture).`);
    print(`  B labels ${fewShot} cases and tests on the other ${b.length - fewShot}; means over ${draws} random draws of those ${fewShot}.`);

    // Hospital A's model.
    pre.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    await pre.fit(A.x, A.y, { epochs: o.pretrainEpochs ?? 30, batchSize: 16, verbose: 0, seed });
    const pretrainAccuracyA = await acc(pre, A);
    const preWeights = pre.getWeights();
    owned.push(...preWeights);

    /** A copy of A's model with a new head on its base (a new functional model). */
    const fromA = (name: string): Model => {
      const copy = build(`${name}_base`);
      copy.setWeights(preWeights);
      const head = layers.dense({ units: 2, activation: 'softmax', name: 'diagnosis_b' }).apply(copy.getLayer('base2').output as SymbolicTensor);
      const m = model({ inputs: copy.inputs, outputs: head, name });
      copy.getLayer('diagnosis').dispose(); // A's head is not part of the new model
      return m;
    };
    /** Compiles with a fresh Adam, fits on B's cases, returns the test accuracy, frees all. */
    const trainOnB = async (m: Model, B: { x: Tensor; y: Tensor }, T: { x: Tensor; y: Tensor }, s: number, groups?: { params: ReturnType<Model['getLayer']>['trainableWeights']; learningRateScale: number }[]) => {
      const opt = adam({ learningRate: 3e-3, paramGroups: groups });
      m.compile({ optimizer: opt, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
      await m.fit(B.x, B.y, { epochs, batchSize: 8, verbose: 0, seed: s });
      const r = await acc(m, T);
      opt.dispose();
      m.dispose();
      return r;
    };

    const perDraw: Record<TabularVariant, number>[] = [];
    for (let d = 0; d < draws; d++) {
      // B's labelled cases: a seeded random choice; the rest of B is its test set.
      const r = hostRng(seed + 17 + d);
      const shuffled = b.slice();
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const B = make(shuffled.slice(0, fewShot));
      const T = make(shuffled.slice(fewShot));
      const s = seed + 100 * (d + 1);

      setSeed(s);
      const scratch = await trainOnB(build('scratch'), B, T, s);
      const asIs = await acc(pre, T);
      // A's base frozen, a new head fine-tuned on B.
      setSeed(s + 1);
      const ft = fromA('frozen_base');
      ft.getLayer('base1').trainable = false;
      ft.getLayer('base2').trainable = false;
      const frozenBase = await trainOnB(ft, B, T, s);
      // A's whole model fine-tuned end to end, the base at a tenth of the rate.
      const whole = build('end_to_end');
      whole.setWeights(preWeights);
      const baseVars = ['base1', 'base2'].flatMap((n) => whole.getLayer(n).trainableWeights);
      const endToEnd = await trainOnB(whole, B, T, s, [{ params: baseVars, learningRateScale: 0.1 }]);
      // LoRA rank-2 adapters on both base layers (their weights frozen) and a new head.
      setSeed(s + 2);
      const lm = fromA('lora');
      applyLora(lm, { rank: 2, alpha: 4, targets: ['base1', 'base2'], seed: s });
      lm.getLayer('diagnosis_b').trainable = true;
      const lora = await trainOnB(lm, B, T, s);
      perDraw.push({ scratch, asIs, frozenBase, endToEnd, lora });
      dispose([B.x, B.y, T.x, T.y]);
    }

    const variants: [TabularVariant, string][] = [
      ['scratch', `trained from scratch on B's ${fewShot} cases`],
      ['asIs', `hospital A's model as is`],
      ['frozenBase', `A's base frozen, new head fine-tuned`],
      ['endToEnd', `A's model fine-tuned end to end (base 0.1x)`],
      ['lora', `A's model + LoRA rank 2, new head`],
    ];
    const meanOf = {} as Record<TabularVariant, number>;
    print(`  hospital A's model on A's own cases: ${(100 * pretrainAccuracyA).toFixed(2)}%`);
    print(`  accuracy on hospital B's held-out cases (mean of ${draws}; draws won against scratch):`);
    for (const [v, what] of variants) {
      meanOf[v] = perDraw.reduce((t, p) => t + p[v], 0) / perDraw.length;
      const wins = v === 'scratch' ? '' : `   (better in ${perDraw.filter((p) => p[v] > p.scratch).length}/${draws})`;
      print(`    ${what.padEnd(44)} ${`${(100 * meanOf[v]).toFixed(2)}%`.padStart(7)}${wins}`);
    }
    return { pretrainAccuracyA, mean: meanOf, perDraw, counts: { a: a.length, bTrain: fewShot, bTest: b.length - fewShot } };
  } finally {
    pre.dispose();
    dispose(owned);
  }
}

/**
 * The corpus: the English word list of the `word-list` package, one word per line, split
 * into training and validation words, tokenised character by character, and grouped by
 * length so that every batch holds words of one length (no padding, no wasted compute).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { CharTokenizer, Dataset, hostRng, type Tensor, tensor } from 'tessera';
import wordListPath from 'word-list';

/** The words, split, and the tokenizer built from the training words. */
export interface Corpus {
  train: string[];
  val: string[];
  tokenizer: CharTokenizer;
}

/** The seeded generator for shuffles and masks (mulberry32), so runs are reproducible. */
export const rng = hostRng;

/** Fisher-Yates in place. */
export function shuffle<T>(xs: T[], next: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** The word list's words (lower-case a-z, 274k of them). */
export async function readWords(): Promise<string[]> {
  const text = await readFile(wordListPath, 'utf8');
  return text.split('\n').map((w) => w.trim()).filter((w) => w.length > 0);
}

/**
 * Shuffles the words with `seed`, holds out `valWords` for validation, keeps at most
 * `trainWords` for training, and builds the character tokenizer from the training words.
 * @example const { train, val, tokenizer } = splitCorpus(await readWords(), { valWords: 4000, seed: 0 })
 */
export function splitCorpus(words: readonly string[], o: { valWords: number; trainWords?: number; seed: number; maxWordLength: number }): Corpus {
  const usable = words.filter((w) => w.length <= o.maxWordLength);
  const all = shuffle([...usable], rng(o.seed ^ 0x5eed));
  if (o.valWords >= all.length) throw new Error(`--val-words ${o.valWords} leaves no training words (the list has ${all.length})`);
  const val = all.slice(0, o.valWords);
  const rest = all.slice(o.valWords);
  const train = o.trainWords === undefined ? rest : rest.slice(0, o.trainWords);
  const tokenizer = CharTokenizer.fromCorpus(train);
  return { train, val, tokenizer };
}

/** Words of one length, tokenised as `bos + chars + eos` rows of `width = length + 2` ids. */
export interface Bucket {
  width: number;
  rows: number;
  ids: Int32Array;
}

/**
 * Groups words by length and encodes each as `bos c1 … cn eos`.
 * @example const buckets = bucketize(tok, ['cat', 'dog', 'horse']) // widths 5 and 7
 */
export function bucketize(tok: CharTokenizer, words: readonly string[]): Bucket[] {
  const byLen = new Map<number, string[]>();
  for (const w of words) {
    const n = [...w].length;
    let list = byLen.get(n);
    if (list === undefined) byLen.set(n, (list = []));
    list.push(w);
  }
  return [...byLen.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, ws]) => {
      const width = n + 2;
      const ids = new Int32Array(ws.length * width);
      ws.forEach((w, r) => ids.set(tok.encode(w, { addBos: true, addEos: true, parseSpecial: false }), r * width));
      return { width, rows: ws.length, ids };
    });
}

/** One batch on the host: `rows` sequences of `width` ids, row-major. */
export interface HostBatch {
  rows: number;
  width: number;
  ids: Int32Array;
}

/**
 * An endless stream of batches: each pass shuffles every bucket, cuts it into batches of at
 * most `batchSize` words, and shuffles the order of the batches (so lengths mix).
 */
export function batchStream(buckets: readonly Bucket[], batchSize: number, seed: number): () => HostBatch {
  const next = rng(seed);
  let queue: HostBatch[] = [];
  const refill = (): void => {
    for (const b of buckets) {
      const order = shuffle(Array.from({ length: b.rows }, (_, i) => i), next);
      for (let s = 0; s < order.length; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        const ids = new Int32Array(idx.length * b.width);
        idx.forEach((r, k) => ids.set(b.ids.subarray(r * b.width, (r + 1) * b.width), k * b.width));
        queue.push({ rows: idx.length, width: b.width, ids });
      }
    }
    queue = shuffle(queue, next);
  };
  return () => {
    if (queue.length === 0) refill();
    return queue.pop()!;
  };
}

/** Every batch of the buckets once, in order (for evaluation). */
export function allBatches(buckets: readonly Bucket[], batchSize: number): HostBatch[] {
  const out: HostBatch[] = [];
  for (const b of buckets) {
    for (let s = 0; s < b.rows; s += batchSize) {
      const rows = Math.min(batchSize, b.rows - s);
      out.push({ rows, width: b.width, ids: b.ids.slice(s * b.width, (s + rows) * b.width) });
    }
  }
  return out;
}

/** Columns `[from, from + count)` of a host batch as an int32 tensor `[rows, count]`. */
export function columns(b: HostBatch, from: number, count: number): Tensor {
  const out = new Int32Array(b.rows * count);
  for (let r = 0; r < b.rows; r++) out.set(b.ids.subarray(r * b.width + from, r * b.width + from + count), r * count);
  return tensor(out, [b.rows, count], 'int32');
}

/** Next-character pairs: inputs `bos c1 … cn`, targets `c1 … cn eos`. */
export function lmPair(b: HostBatch): [Tensor, Tensor] {
  return [columns(b, 0, b.width - 1), columns(b, 1, b.width - 1)];
}

/**
 * A Dataset of `[inputs, targets]` tensors made on demand from a batch stream (`fit` with
 * `stepsPerEpoch` reads as many as it needs; the stream goes on across epochs).
 */
export function streamDataset(next: () => HostBatch, make: (b: HostBatch) => [Tensor, Tensor]): Dataset<[Tensor, Tensor]> {
  return Dataset.fromGenerator(function* () {
    for (;;) yield make(next());
  });
}

/**
 * Unigram statistics of the targets of `lmPair` (characters and eos) over some buckets:
 * the counts per id and the entropy in nats — the loss of the best model that ignores context.
 */
export function unigram(buckets: readonly Bucket[], vocabSize: number): { counts: Float64Array; total: number; entropy: number } {
  const counts = new Float64Array(vocabSize);
  let total = 0;
  for (const b of buckets) {
    for (let r = 0; r < b.rows; r++) {
      for (let j = 1; j < b.width; j++) {
        counts[b.ids[r * b.width + j]!]!++;
        total++;
      }
    }
  }
  let entropy = 0;
  for (const c of counts) if (c > 0) entropy -= (c / total) * Math.log(c / total);
  return { counts, total, entropy };
}

/**
 * Choosing the next token from logits: greedy (argmax), temperature, top-k and top-p
 * (nucleus) filtering, and seeded categorical sampling.
 *
 * The choice is made on the host: a decoding step reads one `[batch, vocab]` row set anyway
 * to know the token it feeds back, and host float64 arithmetic with a seeded generator makes
 * the same seed pick the same tokens on every backend.
 * @module
 */
import { ArgumentError, DTypeError, fmtShape, ShapeError, Tensor, tensor } from '@tessera/core';
import { hostRng, randomSeed } from '../util.js';

/** Options that shape the distribution a token is drawn from. */
export interface SamplingOptions {
  /**
   * Divides the logits before the softmax (default 1). Below 1 sharpens, above 1 flattens;
   * 0 means greedy (argmax).
   */
  temperature?: number;
  /** Keep only the `topK` most likely tokens (default: all). */
  topK?: number;
  /**
   * Keep the smallest set of most likely tokens whose probability adds up to at least `topP`
   * (nucleus sampling; default 1 = all).
   */
  topP?: number;
}

/** Options of {@link TokenSampler}. */
export interface TokenSamplerOptions extends SamplingOptions {
  /** Seeds the draws: the same seed and logits give the same tokens (default: random). */
  seed?: number;
}

/** Checks sampling options and fills in the defaults. */
export function checkSampling(op: string, o: SamplingOptions): Required<SamplingOptions> {
  if (o === null || typeof o !== 'object') throw new ArgumentError(op, `options must be an object, got ${o === null ? 'null' : typeof o}`);
  const temperature = o.temperature ?? 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) throw new ArgumentError(op, `temperature must be a finite number >= 0, got ${String(temperature)}`);
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new ArgumentError(op, `topK must be a positive integer (or 0 / undefined for all), got ${String(topK)}`);
  const topP = o.topP ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new ArgumentError(op, `topP must be in (0, 1], got ${String(topP)}`);
  return { temperature, topK, topP };
}

/** Rows of a `[vocab]`, `[batch, vocab]` or `[batch, T, vocab]` (last position) logits tensor. */
function rowsOf(op: string, logits: Tensor): { rows: number; vocab: number; offset: (r: number) => number } {
  if (!(logits instanceof Tensor)) throw new ArgumentError(op, `logits must be a Tensor, got ${logits === null ? 'null' : typeof logits}`);
  logits.assertLive(op);
  if (logits.dtype !== 'float32') throw new DTypeError(op, `logits must be float32, got ${logits.dtype}`);
  if (logits.rank < 1 || logits.rank > 3) throw new ShapeError(op, `logits must be [vocab], [batch, vocab] or [batch, T, vocab], got ${fmtShape(logits.shape)}`);
  const vocab = logits.shape[logits.rank - 1]!;
  if (vocab === 0) throw new ShapeError(op, `logits ${fmtShape(logits.shape)} have an empty vocabulary axis`);
  const rows = logits.rank === 1 ? 1 : logits.shape[0]!;
  const t = logits.rank === 3 ? logits.shape[1]! : 1;
  if (t === 0) throw new ShapeError(op, `logits ${fmtShape(logits.shape)} have no positions`);
  return { rows, vocab, offset: (r) => (r * t + (t - 1)) * vocab };
}

async function readRows(op: string, logits: Tensor): Promise<Float32Array[]> {
  const { rows, vocab, offset } = rowsOf(op, logits);
  const data = logits.backend.caps.syncRead ? logits.dataSync() : await logits.data();
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) out.push(Float32Array.from(data.subarray(offset(r), offset(r) + vocab) as Float32Array));
  return out;
}

function checkFinite(op: string, row: ArrayLike<number>): void {
  let any = false;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (Number.isNaN(v) || v === Infinity) throw new ArgumentError(op, `logits hold ${v} at index ${i}; expected finite values (or -Infinity for excluded tokens)`);
    any ||= v !== -Infinity;
  }
  if (!any) throw new ArgumentError(op, 'every logit of a row is -Infinity: no token can be chosen');
}

/** Index of the largest value (the first one on ties). */
export function argmaxRow(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** Indices sorted by value, largest first (index order on ties, so the result is deterministic). */
function ranked(row: ArrayLike<number>): number[] {
  return Array.from({ length: row.length }, (_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
}

/**
 * The logits of the `k` most likely tokens; the rest become -Infinity. Ties at the cut keep
 * the lower indices, so exactly `k` tokens survive (fewer if fewer are finite).
 * @example topKRow(Float32Array.of(1, 3, 2), 2) // [-Infinity, 3, 2]
 */
export function topKRow(row: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(row.length).fill(-Infinity);
  const order = ranked(row);
  for (let j = 0; j < Math.min(k, order.length); j++) out[order[j]!] = row[order[j]!]!;
  return out;
}

/**
 * The logits of the nucleus: the fewest most likely tokens whose softmax probabilities add up
 * to at least `p` (always at least one); the rest become -Infinity.
 * @example topPRow(Float32Array.of(0, Math.log(3)), 0.7) // [-Infinity, 1.0986]
 */
export function topPRow(row: ArrayLike<number>, p: number): Float64Array {
  const probs = softmaxRow(row);
  const order = ranked(row);
  const out = new Float64Array(row.length).fill(-Infinity);
  let cum = 0;
  for (const i of order) {
    if (probs[i] === 0 && cum > 0) break;
    out[i] = row[i]!;
    cum += probs[i]!;
    // A tiny tolerance so that p = 1 (or a sum that rounds just below p) keeps what it should.
    if (cum >= p - 1e-12) break;
  }
  return out;
}

/** Softmax of one row in float64 (-Infinity entries get probability 0). */
export function softmaxRow(row: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > m) m = row[i]!;
  const out = new Float64Array(row.length);
  if (m === -Infinity) return out;
  let s = 0;
  for (let i = 0; i < row.length; i++) s += out[i] = Math.exp(row[i]! - m);
  for (let i = 0; i < row.length; i++) out[i]! /= s;
  return out;
}

/**
 * Picks one token from a row of logits: greedy at temperature 0, else temperature, top-k,
 * top-p, then a draw with `u` in [0, 1).
 * @example pickToken(Float32Array.of(0, 1, 2), { temperature: 0 }, 0.5) // 2
 */
export function pickToken(row: ArrayLike<number>, o: Required<SamplingOptions>, u: number): number {
  if (o.temperature === 0) return argmaxRow(row);
  let z: ArrayLike<number> = o.temperature === 1 ? row : Float64Array.from(row as ArrayLike<number>, (v) => v / o.temperature);
  if (o.topK > 0 && o.topK < row.length) z = topKRow(z, o.topK);
  if (o.topP < 1) z = topPRow(z, o.topP);
  const probs = softmaxRow(z);
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cum += probs[i]!;
    last = i;
    if (u < cum) return i;
  }
  // Rounding can leave the cumulative sum just under 1: the last candidate takes the rest.
  return last >= 0 ? last : argmaxRow(row);
}

/**
 * Greedy decoding: the most likely token of each row (the last position of `[batch, T, vocab]`
 * logits). Ties go to the lower id.
 * @example await greedy(logits) // [3, 17]
 */
export async function greedy(logits: Tensor): Promise<number[]> {
  const rows = await readRows('greedy', logits);
  return rows.map((r) => {
    checkFinite('greedy', r);
    return argmaxRow(r);
  });
}

function filtered(op: string, logits: Tensor, f: (row: Float32Array) => Float64Array): Tensor {
  const { rows, vocab } = rowsOf(op, logits);
  if (logits.rank === 3) throw new ShapeError(op, `expects [vocab] or [batch, vocab] logits, got ${fmtShape(logits.shape)}; slice the last position first`);
  if (!logits.backend.caps.syncRead) throw new ArgumentError(op, `backend '${logits.backend.name}' cannot read synchronously; use TokenSampler, which reads asynchronously`);
  const data = logits.dataSync() as Float32Array;
  const out = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * vocab, (r + 1) * vocab);
    checkFinite(op, row);
    out.set(f(row), r * vocab);
  }
  return tensor(out, logits.shape, 'float32');
}

/**
 * Keeps the `k` largest logits of each row and sets the others to -Infinity (exactly `k`
 * survive; ties at the cut keep the lower ids). Returns a new tensor.
 * @example topKFilter(tensor([[1, 3, 2, 0]]), 2) // [[-Inf, 3, 2, -Inf]]
 */
export function topKFilter(logits: Tensor, k: number): Tensor {
  const op = 'topKFilter';
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(op, `k must be a positive integer, got ${String(k)}`);
  return filtered(op, logits, (row) => topKRow(row, k));
}

/**
 * Keeps each row's nucleus: the fewest largest logits whose softmax probabilities reach `p`;
 * the others become -Infinity. Returns a new tensor.
 * @example topPFilter(tensor([[0, 0, Math.log(2)]]), 0.5) // [[-Inf, -Inf, 0.693]]
 */
export function topPFilter(logits: Tensor, p: number): Tensor {
  const op = 'topPFilter';
  if (typeof p !== 'number' || !(p > 0 && p <= 1)) throw new ArgumentError(op, `p must be in (0, 1], got ${String(p)}`);
  return filtered(op, logits, (row) => topPRow(row, p));
}

/**
 * Draws tokens from logits with temperature, top-k and top-p, from a seeded generator: the
 * same seed and logits give the same tokens, on any backend.
 * @example
 * const sampler = new TokenSampler({ temperature: 0.8, topK: 10, seed: 1 });
 * const [next] = await sampler.sample(logits); // one id per batch row
 */
export class TokenSampler {
  /** The checked options (temperature 0 = greedy). */
  readonly options: Readonly<Required<SamplingOptions>>;
  /** The seed of the draws. */
  readonly seed: number;
  private readonly next: () => number;

  constructor(opts: TokenSamplerOptions = {}) {
    this.options = Object.freeze(checkSampling('TokenSampler', opts));
    const seed = opts.seed ?? randomSeed();
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError('TokenSampler', `seed must be a non-negative safe integer, got ${String(seed)}`);
    this.seed = seed;
    this.next = hostRng(seed);
  }

  /** One token id per row of `[vocab]`, `[batch, vocab]` or `[batch, T, vocab]` (last position) logits. */
  async sample(logits: Tensor): Promise<number[]> {
    const rows = await readRows('TokenSampler.sample', logits);
    return rows.map((r) => this.sampleRow(r));
  }

  /** One token id from a host row of logits. */
  sampleRow(row: ArrayLike<number>): number {
    checkFinite('TokenSampler.sample', row);
    // Draw even when greedy, so switching temperature does not shift later draws of a run.
    const u = this.next();
    return pickToken(row, this.options, u);
  }
}

/**
 * The autoregressive decoding loop: feed a prompt, pick a token, feed it back, until
 * `maxNewTokens`, an end token or the context limit. With a KV cache each step feeds only
 * the new token; without one, the whole sequence again (same tokens, more work).
 * @module
 */
import { noGrad } from '@tessera/autograd';
import { ArgumentError, type Tensor, tensor, tidy } from '@tessera/core';
import { KVCache } from '../layers/kv-cache.js';
import { checkSampling, type SamplingOptions, TokenSampler } from './sampling.js';

/** What the loop tells a model step. */
export interface StepContext {
  /**
   * The cache to read and extend (pass `cache.layer(i)` to attention block `i`), or null when
   * decoding without one (then `tokens` is the whole sequence so far).
   */
  cache: KVCache | null;
  /** Position of `tokens[:, 0]` in the sequence (the `startIndex` of position embeddings). */
  startIndex: number;
}

/**
 * One forward pass of a decoder: int32 `tokens [batch, t]` -> logits `[batch, t, vocab]`
 * (or `[batch, vocab]` for the last position). The loop disposes the tensor it returns.
 */
export type StepFn = (tokens: Tensor, ctx: StepContext) => Tensor;

/** Options of {@link generate}. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add at most (default 32). */
  maxNewTokens?: number;
  /** Seeds the draws (default: random). Same seed, same model, same prompt: same tokens. */
  seed?: number;
  /** Decode with a KV cache (default true): each step feeds only the new token. */
  useCache?: boolean;
  /** A row stops after emitting this token (included in its output). Default: none. */
  eosId?: number | null;
  /** Longest sequence the model takes (prompt included); generation stops there. Default: none. */
  maxLength?: number;
  /** Called after every step with the tokens just chosen (one per row, -1 for finished rows). */
  onStep?: (step: number, tokens: readonly number[]) => void;
}

function checkPrompt(op: string, prompt: unknown): number[][] {
  const rows = Array.isArray(prompt) && prompt.length > 0 && Array.isArray(prompt[0]) ? (prompt as unknown[][]) : [prompt as unknown[]];
  if (!Array.isArray(rows[0])) throw new ArgumentError(op, `prompt must be an array of token ids (or an array of such rows), got ${prompt === null ? 'null' : typeof prompt}`);
  const len = rows[0].length;
  if (len === 0) throw new ArgumentError(op, 'prompt must hold at least one token (a bos token, for example)');
  rows.forEach((r, i) => {
    if (!Array.isArray(r)) throw new ArgumentError(op, `prompt row ${i} must be an array of token ids`);
    if (r.length !== len) throw new ArgumentError(op, `prompt rows must have the same length: row 0 has ${len} tokens, row ${i} has ${r.length}`);
    r.forEach((t, j) => {
      if (!Number.isInteger(t) || (t as number) < 0) throw new ArgumentError(op, `prompt[${i}][${j}] must be a non-negative integer token id, got ${JSON.stringify(t)}`);
    });
  });
  return rows.map((r) => [...(r as number[])]);
}

/**
 * Generates tokens autoregressively with a model step function. Returns each row's prompt
 * followed by its new tokens (ending at `eosId` if it was emitted).
 * @example
 * const step: StepFn = (tokens, { cache, startIndex }) => gpt.decode(tokens, cache, startIndex);
 * const [seq] = await generate(step, [[bosId]], { maxNewTokens: 20, temperature: 0.8, topK: 10, seed: 1, eosId });
 */
export async function generate(step: StepFn, prompt: number[] | number[][], opts: GenerateOptions = {}): Promise<number[][]> {
  const op = 'generate';
  if (typeof step !== 'function') throw new ArgumentError(op, `step must be a function (tokens, { cache, startIndex }) => logits, got ${step === null ? 'null' : typeof step}`);
  const rows = checkPrompt(op, prompt);
  const sampling = checkSampling(op, opts);
  const maxNew = opts.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new ArgumentError(op, `maxNewTokens must be a non-negative integer, got ${String(maxNew)}`);
  const maxLength = opts.maxLength ?? Infinity;
  if (maxLength !== Infinity && (!Number.isInteger(maxLength) || maxLength < 1)) throw new ArgumentError(op, `maxLength must be a positive integer, got ${String(maxLength)}`);
  if (rows[0]!.length > maxLength) throw new ArgumentError(op, `the prompt has ${rows[0]!.length} tokens, more than maxLength ${maxLength}`);
  const eos = opts.eosId ?? null;
  if (eos !== null && (!Number.isInteger(eos) || eos < 0)) throw new ArgumentError(op, `eosId must be a non-negative integer or null, got ${String(eos)}`);
  const sampler = new TokenSampler({ ...sampling, seed: opts.seed });
  const useCache = opts.useCache ?? true;
  const cache = useCache ? new KVCache() : null;
  const batch = rows.length;
  const seqs = rows.map((r) => [...r]);
  // What the model has seen: every row grows by one token a step (a finished row repeats its
  // last token, which is not recorded), so the batch stays rectangular.
  const streams = rows.map((r) => [...r]);
  const done = new Array<boolean>(batch).fill(false);
  let feed: number[][] = rows;
  let start = 0;
  try {
    for (let s = 0; s < maxNew && streams[0]!.length < maxLength && !done.every(Boolean); s++) {
      const t = feed[0]!.length;
      const ids = Int32Array.from(feed.flat());
      const logits = noGrad(() =>
        tidy(() => {
          const x = tensor(ids, [batch, t], 'int32');
          const out = step(x, { cache, startIndex: start });
          if (out === x) throw new ArgumentError(op, 'the step function returned its input; it must return logits');
          return out;
        }),
      );
      let chosen: number[];
      try {
        chosen = await sampler.sample(logits);
      } finally {
        logits.dispose();
      }
      const emitted = chosen.map((tok, r) => {
        const stream = streams[r]!;
        if (done[r]) {
          stream.push(stream[stream.length - 1]!);
          return -1;
        }
        stream.push(tok);
        seqs[r]!.push(tok);
        if (tok === eos) done[r] = true;
        return tok;
      });
      opts.onStep?.(s, emitted);
      // With a cache the next step feeds only the new tokens, at the next positions.
      start = cache !== null ? start + t : 0;
      feed = cache !== null ? streams.map((q) => [q[q.length - 1]!]) : streams.map((q) => [...q]);
    }
  } finally {
    cache?.dispose();
  }
  return seqs;
}

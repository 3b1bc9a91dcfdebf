/**
 * Byte-pair encoding (Sennrich et al. 2016) over Unicode characters: training learns merges
 * of adjacent tokens, most frequent pair first, within words; encoding replays the merges
 * in the order they were learned.
 * @module
 */
import { ArgumentError } from '@tessera/core';
import { codePoints, resolveSpecials, SPECIAL_ROLES, type SpecialRole, type SpecialTokens, Tokenizer, type TokenizerJson } from './base.js';
import { fillNulls } from './char.js';

/** How text is cut into words before merging (merges never cross a word boundary). */
export type BpePretokenizer = 'words' | 'none';

/** Options of {@link BpeTokenizer.train}. */
export interface BpeTrainOptions {
  /** Target vocabulary size, special tokens and the base characters included (default 1000). */
  vocabSize?: number;
  /** Stop after this many merges, whatever the vocabulary size (default: no limit). */
  maxMerges?: number;
  /** Merge only pairs seen at least this often (default 2). */
  minFrequency?: number;
  /** Special tokens (defaults `<pad>`, `<bos>`, `<eos>`, `<mask>`, `<unk>`; null drops a role). */
  specialTokens?: SpecialTokens;
  /**
   * `'words'` (default): letters, digits and other symbols form separate words, each taking
   * the space before it (GPT-2 style, so decoding is lossless); `'none'`: every text is one word
   * (merges may cross spaces; encoding time grows with the square of a word's length, so keep
   * such texts short).
   */
  pretokenizer?: BpePretokenizer;
}

/** Options of the {@link BpeTokenizer} constructor (a trained tokenizer's parts). */
export interface BpeTokenizerOptions {
  /** The base characters, in id order after the special tokens. */
  alphabet: readonly string[];
  /** The merges in learned order, as `[left, right]` token strings. */
  merges: readonly (readonly [string, string])[];
  specialTokens?: SpecialTokens;
  pretokenizer?: BpePretokenizer;
}

// GPT-2's split without its English contractions: runs of letters, of digits, of other
// symbols (each with one leading space), and whitespace. Every character matches an
// alternative, so joining the words gives the text back.
const WORDS = / ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Splits text into the words BPE merges within. */
export function pretokenize(text: string, mode: BpePretokenizer): string[] {
  if (mode === 'none') return text.length > 0 ? [text] : [];
  return text.match(WORDS) ?? [];
}

// Pair keys: two ids in one safe integer (ids stay below 2^21).
const PAIR = 2 ** 21;
const key = (a: number, b: number): number => a * PAIR + b;

/**
 * A byte-pair-encoding tokenizer over characters. Ids: special tokens first, then the base
 * characters (by code point), then one token per merge in learned order (a merge whose
 * string already exists reuses that token). Characters never seen in training encode as unk.
 * @example
 * const bpe = BpeTokenizer.train(corpus, { vocabSize: 500 });
 * const ids = bpe.encode('the cat');
 * bpe.decode(ids) // 'the cat'
 */
export class BpeTokenizer extends Tokenizer {
  protected readonly op = 'BpeTokenizer';
  /** The learned merges, in order. */
  readonly merges: readonly (readonly [string, string])[];
  /** How text is cut into words before merging. */
  readonly pretokenizer: BpePretokenizer;
  /** The base characters (special tokens and merged tokens excluded), in id order. */
  readonly alphabet: readonly string[];
  /** pair key -> [rank, merged id]. */
  private readonly ranks = new Map<number, [number, number]>();
  private readonly cache = new Map<string, number[]>();

  constructor(opts: BpeTokenizerOptions) {
    const op = 'BpeTokenizer';
    if (opts === null || typeof opts !== 'object' || !Array.isArray(opts.alphabet) || !Array.isArray(opts.merges)) throw new ArgumentError(op, 'expected { alphabet: string[], merges: [string, string][] }');
    const pre = opts.pretokenizer ?? 'words';
    if (pre !== 'words' && pre !== 'none') throw new ArgumentError(op, `pretokenizer must be 'words' or 'none', got ${JSON.stringify(pre)}`);
    const specials = resolveSpecials(op, opts.specialTokens);
    const vocab = SPECIAL_ROLES.map((r) => specials[r]).filter((s): s is string => s !== null);
    const index = new Map(vocab.map((t, i) => [t, i]));
    const specialSet = new Set(vocab);
    opts.alphabet.forEach((c, i) => {
      if (typeof c !== 'string' || codePoints(c).length !== 1) throw new ArgumentError(op, `alphabet[${i}] must be one character, got ${JSON.stringify(c)}`);
      if (index.has(c)) throw new ArgumentError(op, `alphabet[${i}] ${JSON.stringify(c)} is listed twice (or is a special token)`);
      index.set(c, vocab.length);
      vocab.push(c);
    });
    const ranked: [number, number, number][] = [];
    opts.merges.forEach((m, rank) => {
      if (!Array.isArray(m) || m.length !== 2 || typeof m[0] !== 'string' || typeof m[1] !== 'string') throw new ArgumentError(op, `merges[${rank}] must be a pair of token strings, got ${JSON.stringify(m)}`);
      const a = index.get(m[0]);
      const b = index.get(m[1]);
      if (a === undefined || b === undefined || specialSet.has(m[0]) || specialSet.has(m[1])) {
        throw new ArgumentError(op, `merges[${rank}] ${JSON.stringify(m)} uses a token that is neither a character of the alphabet nor the result of an earlier merge`);
      }
      const s = m[0] + m[1];
      let id = index.get(s);
      if (id === undefined) {
        id = vocab.length;
        index.set(s, id);
        vocab.push(s);
      }
      if (vocab.length >= PAIR) throw new ArgumentError(op, `a vocabulary over ${PAIR} tokens is not supported`);
      ranked.push([key(a, b), rank, id]);
    });
    super(vocab, specials);
    for (const [k, rank, id] of ranked) if (!this.ranks.has(k)) this.ranks.set(k, [rank, id]);
    this.merges = opts.merges.map((m) => [m[0], m[1]] as const);
    this.pretokenizer = pre;
    this.alphabet = [...opts.alphabet];
  }

  /**
   * Learns merges from a corpus until the vocabulary reaches `vocabSize`, `maxMerges` merges
   * are made, or no pair occurs `minFrequency` times. Each step merges the most frequent
   * adjacent pair (counted over words, weighted by how often each word occurs); ties go to
   * the pair with the smaller left id, then the smaller right id.
   * @example const bpe = BpeTokenizer.train(['low lower lowest'], { vocabSize: 30 })
   */
  static train(corpus: Iterable<string>, opts: BpeTrainOptions = {}): BpeTokenizer {
    const op = 'BpeTokenizer.train';
    if (corpus === null || typeof corpus !== 'object' || typeof (corpus as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new ArgumentError(op, `corpus must be an iterable of strings, got ${corpus === null ? 'null' : typeof corpus}`);
    }
    const vocabSize = opts.vocabSize ?? 1000;
    if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize >= PAIR) throw new ArgumentError(op, `vocabSize must be an integer in [1, ${PAIR}), got ${vocabSize}`);
    const maxMerges = opts.maxMerges ?? Infinity;
    if (maxMerges !== Infinity && (!Number.isInteger(maxMerges) || maxMerges < 0)) throw new ArgumentError(op, `maxMerges must be a non-negative integer, got ${maxMerges}`);
    const minFrequency = opts.minFrequency ?? 2;
    if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new ArgumentError(op, `minFrequency must be an integer >= 1, got ${minFrequency}`);
    const pre = opts.pretokenizer ?? 'words';
    if (pre !== 'words' && pre !== 'none') throw new ArgumentError(op, `pretokenizer must be 'words' or 'none', got ${JSON.stringify(pre)}`);
    const specials = resolveSpecials(op, opts.specialTokens);
    const specialList = SPECIAL_ROLES.map((r) => specials[r]).filter((s): s is string => s !== null);

    // Word frequencies; special-token strings in the corpus are cut out, not learned from.
    const wordCounts = new Map<string, number>();
    let k = 0;
    for (const text of corpus) {
      if (typeof text !== 'string') throw new ArgumentError(op, `corpus item ${k} must be a string, got ${text === null ? 'null' : typeof text}`);
      k++;
      let pieces = [text];
      for (const s of specialList) pieces = pieces.flatMap((p) => p.split(s));
      for (const p of pieces) for (const w of pretokenize(p, pre)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
    const chars = new Set<string>();
    for (const w of wordCounts.keys()) for (const c of w) chars.add(c);
    const alphabet = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    const tokens = [...specialList, ...alphabet];
    const index = new Map(tokens.map((t, i) => [t, i]));

    const words: number[][] = [];
    const freq: number[] = [];
    for (const [w, n] of wordCounts) {
      words.push(codePoints(w).map((c) => index.get(c)!));
      freq.push(n);
    }
    const counts = new Map<number, number>();
    const where = new Map<number, Set<number>>();
    const addPairs = (wi: number, sign: 1 | -1): void => {
      const s = words[wi]!;
      const f = freq[wi]! * sign;
      for (let i = 0; i + 1 < s.length; i++) {
        const p = key(s[i]!, s[i + 1]!);
        const c = (counts.get(p) ?? 0) + f;
        if (c === 0) counts.delete(p);
        else counts.set(p, c);
        if (sign > 0) {
          let set = where.get(p);
          if (set === undefined) where.set(p, (set = new Set()));
          set.add(wi);
        }
      }
    };
    for (let i = 0; i < words.length; i++) addPairs(i, 1);

    const merges: [string, string][] = [];
    let size = tokens.length;
    while (size < vocabSize && merges.length < maxMerges) {
      let best = -1;
      let bestCount = 0;
      for (const [p, c] of counts) if (c > bestCount || (c === bestCount && p < best)) [best, bestCount] = [p, c];
      if (best < 0 || bestCount < minFrequency) break;
      const a = Math.floor(best / PAIR);
      const b = best % PAIR;
      const s = tokens[a]! + tokens[b]!;
      let id = index.get(s);
      if (id === undefined) {
        id = tokens.length;
        tokens.push(s);
        index.set(s, id);
        size++;
      }
      merges.push([tokens[a]!, tokens[b]!]);
      // Only the words holding the pair change; `where` may list words that lost it since,
      // which the scan below finds unchanged.
      for (const wi of where.get(best) ?? []) {
        const w = words[wi]!;
        let has = false;
        for (let i = 0; i + 1 < w.length && !has; i++) has = w[i] === a && w[i + 1] === b;
        if (!has) continue;
        addPairs(wi, -1);
        const out: number[] = [];
        for (let i = 0; i < w.length; i++) {
          if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
            out.push(id);
            i++;
          } else out.push(w[i]!);
        }
        words[wi] = out;
        addPairs(wi, 1);
      }
      where.delete(best);
    }
    return new BpeTokenizer({ alphabet, merges, specialTokens: opts.specialTokens, pretokenizer: pre });
  }

  /** Applies the merges to one word, lowest rank first (as training did). */
  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit !== undefined) return hit;
    const s = codePoints(word).map((c) => this.ids.get(c) ?? this.unknown(c));
    for (;;) {
      let bestRank = Infinity;
      let merged = -1;
      let a = -1;
      let b = -1;
      for (let i = 0; i + 1 < s.length; i++) {
        const r = this.ranks.get(key(s[i]!, s[i + 1]!));
        if (r !== undefined && r[0] < bestRank) [bestRank, merged, a, b] = [r[0], r[1], s[i]!, s[i + 1]!];
      }
      if (merged < 0) break;
      let j = 0;
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          s[j++] = merged;
          i++;
        } else s[j++] = s[i]!;
      }
      s.length = j;
    }
    if (this.cache.size >= 50_000) this.cache.clear();
    this.cache.set(word, s);
    return s;
  }

  protected encodeText(text: string): number[] {
    const out: number[] = [];
    for (const w of pretokenize(text, this.pretokenizer)) out.push(...this.encodeWord(w));
    return out;
  }

  toJSON(): TokenizerJson {
    return {
      format: 'tessera-tokenizer',
      version: 1,
      kind: 'bpe',
      vocab: [...this.vocab],
      specialTokens: this.specialJson(),
      merges: this.merges.map((m) => [m[0], m[1]]),
      pretokenizer: this.pretokenizer,
    };
  }

  /** @internal Rebuilds from checked JSON (see `tokenizerFromJSON`). */
  static fromParts(vocab: readonly string[], specialTokens: Partial<Record<SpecialRole, string | null>>, merges: readonly (readonly [string, string])[], pretokenizer: BpePretokenizer): BpeTokenizer {
    const specials = new Set(Object.values(specialTokens).filter((s) => s !== null));
    // Merges always join two tokens, so the alphabet is every one-character token that is not special.
    const alphabet = vocab.filter((t) => !specials.has(t) && codePoints(t).length === 1);
    return new BpeTokenizer({ alphabet, merges, specialTokens: fillNulls(specialTokens), pretokenizer });
  }
}

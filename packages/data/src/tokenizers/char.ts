/**
 * The character-level tokenizer: one token per Unicode code point, special tokens first.
 * @module
 */
import { ArgumentError } from '@tessera/core';
import { codePoints, resolveSpecials, SPECIAL_ROLES, type SpecialRole, type SpecialTokens, Tokenizer, type TokenizerJson } from './base.js';

/** Options of {@link CharTokenizer.fromCorpus}. */
export interface CharTrainOptions {
  /** Special tokens (defaults `<pad>`, `<bos>`, `<eos>`, `<mask>`, `<unk>`; null drops a role). */
  specialTokens?: SpecialTokens;
  /** Keep only characters seen at least this often (default 1); rarer ones encode as unk. */
  minFrequency?: number;
  /** Keep at most this many characters, the most frequent (ties: lower code point first). */
  maxChars?: number;
}

/** Options of the {@link CharTokenizer} constructor. */
export interface CharTokenizerOptions {
  /** The characters of the vocabulary, in id order after the special tokens. */
  chars: readonly string[];
  /** Special tokens (defaults `<pad>`, `<bos>`, `<eos>`, `<mask>`, `<unk>`; null drops a role). */
  specialTokens?: SpecialTokens;
}

/**
 * A character-level tokenizer. Ids: the special tokens first (pad 0, bos 1, eos 2, mask 3,
 * unk 4 with the defaults), then the characters. A character outside the vocabulary
 * encodes as unk (or, without an unk token, is an ArgumentError).
 * @example
 * const tok = CharTokenizer.fromCorpus(['hello', 'world']);
 * tok.encode('low', { addBos: true, addEos: true }) // [1, 7, 8, 9, 2]
 * tok.decode(tok.encode('low')) // 'low'
 */
export class CharTokenizer extends Tokenizer {
  protected readonly op = 'CharTokenizer';

  constructor(opts: CharTokenizerOptions) {
    const op = 'CharTokenizer';
    if (opts === null || typeof opts !== 'object' || !Array.isArray(opts.chars)) throw new ArgumentError(op, 'expected { chars: string[] }');
    const specials = resolveSpecials(op, opts.specialTokens);
    const seen = new Set<string>();
    opts.chars.forEach((c, i) => {
      if (typeof c !== 'string' || codePoints(c).length !== 1) throw new ArgumentError(op, `chars[${i}] must be one character, got ${JSON.stringify(c)}`);
      if (seen.has(c)) throw new ArgumentError(op, `chars[${i}] ${JSON.stringify(c)} is listed twice`);
      seen.add(c);
    });
    const specialList = SPECIAL_ROLES.map((r) => specials[r]).filter((s): s is string => s !== null);
    for (const s of specialList) if (seen.has(s)) throw new ArgumentError(op, `special token ${JSON.stringify(s)} is also a character of the vocabulary`);
    super([...specialList, ...opts.chars], specials);
  }

  /**
   * Builds the vocabulary from the characters of a corpus, sorted by code point.
   * @example const tok = CharTokenizer.fromCorpus(words, { specialTokens: { mask: null } })
   */
  static fromCorpus(corpus: Iterable<string>, opts: CharTrainOptions = {}): CharTokenizer {
    const op = 'CharTokenizer.fromCorpus';
    if (corpus === null || typeof corpus !== 'object' || typeof (corpus as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new ArgumentError(op, `corpus must be an iterable of strings, got ${corpus === null ? 'null' : typeof corpus}`);
    }
    const minFrequency = opts.minFrequency ?? 1;
    if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new ArgumentError(op, `minFrequency must be an integer >= 1, got ${minFrequency}`);
    if (opts.maxChars !== undefined && (!Number.isInteger(opts.maxChars) || opts.maxChars < 1)) throw new ArgumentError(op, `maxChars must be an integer >= 1, got ${opts.maxChars}`);
    const counts = new Map<string, number>();
    let k = 0;
    for (const text of corpus) {
      if (typeof text !== 'string') throw new ArgumentError(op, `corpus item ${k} must be a string, got ${text === null ? 'null' : typeof text}`);
      for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
      k++;
    }
    let kept = [...counts].filter(([, n]) => n >= minFrequency);
    if (opts.maxChars !== undefined && kept.length > opts.maxChars) {
      kept = kept.sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!).slice(0, opts.maxChars);
    }
    const specials = resolveSpecials(op, opts.specialTokens);
    const specialSet = new Set(Object.values(specials));
    const chars = kept.map(([c]) => c).filter((c) => !specialSet.has(c)).sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer({ chars, specialTokens: opts.specialTokens });
  }

  /** The characters of the vocabulary (special tokens excluded), in id order. */
  get chars(): string[] {
    return this.vocab.filter((_, i) => !this.isSpecial(i));
  }

  protected encodeText(text: string): number[] {
    const out: number[] = [];
    for (const c of text) out.push(this.ids.get(c) ?? this.unknown(c));
    return out;
  }

  toJSON(): TokenizerJson {
    return { format: 'tessera-tokenizer', version: 1, kind: 'char', vocab: [...this.vocab], specialTokens: this.specialJson() };
  }

  /** @internal Rebuilds from checked JSON (see `tokenizerFromJSON`). */
  static fromVocab(vocab: readonly string[], specialTokens: Partial<Record<SpecialRole, string | null>>): CharTokenizer {
    const specials = new Set(Object.values(specialTokens).filter((s) => s !== null));
    // Special tokens come first in a CharTokenizer's vocabulary; the JSON keeps ids as they were.
    return new CharTokenizer({ chars: vocab.filter((t) => !specials.has(t)), specialTokens: fillNulls(specialTokens) });
  }
}

/** Roles absent from saved JSON are absent from the tokenizer (not defaulted). */
export function fillNulls(s: Partial<Record<SpecialRole, string | null>>): SpecialTokens {
  const out: SpecialTokens = {};
  for (const r of SPECIAL_ROLES) out[r] = s[r] ?? null;
  return out;
}

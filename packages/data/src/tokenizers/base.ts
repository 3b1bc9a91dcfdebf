/**
 * What every tokenizer shares: the vocabulary (id <-> token string), the special tokens
 * (pad, bos, eos, mask, unk), splitting text on special-token strings, decoding, batch
 * encoding into a padded int32 tensor, and the JSON file shape.
 * @module
 */
import { ArgumentError, IndexError, type Tensor, tensor } from '@tessera/core';

/** The roles a special token can play. */
export type SpecialRole = 'pad' | 'bos' | 'eos' | 'mask' | 'unk';

/** The special-token roles, in the order their ids are assigned (pad is id 0). */
export const SPECIAL_ROLES: readonly SpecialRole[] = ['pad', 'bos', 'eos', 'mask', 'unk'];

/**
 * The string of each special token, or `null` for a role the tokenizer does not have.
 * Roles left out take the defaults of {@link DEFAULT_SPECIAL_TOKENS}.
 */
export type SpecialTokens = Partial<Record<SpecialRole, string | null>>;

/** `<pad>` (id 0, so `maskZero` embeddings ignore it), `<bos>`, `<eos>`, `<mask>`, `<unk>`. */
export const DEFAULT_SPECIAL_TOKENS: Readonly<Record<SpecialRole, string>> = { pad: '<pad>', bos: '<bos>', eos: '<eos>', mask: '<mask>', unk: '<unk>' };

/** Options of `encode`. */
export interface EncodeOptions {
  /** Put the bos token first (default false; needs a bos token). */
  addBos?: boolean;
  /** Put the eos token last (default false; needs an eos token). */
  addEos?: boolean;
  /**
   * Read special-token strings in the text (`"<mask>"`) as those tokens (default true).
   * With false they are encoded like any other text.
   */
  parseSpecial?: boolean;
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Leave special tokens out of the text (default true). */
  skipSpecial?: boolean;
}

/** Options of `encodeBatch`. */
export interface EncodeBatchOptions extends EncodeOptions {
  /**
   * Length of every row: `'longest'` (default) pads to the longest sequence, a number pads
   * (and with `truncate`, cuts) to that length.
   */
  length?: 'longest' | number;
  /** Cut sequences longer than `length` (default false: a longer one is an ArgumentError). */
  truncate?: boolean;
}

/** A padded batch of token ids on the host. */
export interface EncodedBatch {
  /** Row-major ids, `rows x length`, padded with the pad id. */
  ids: Int32Array;
  /** `[rows, length]`. */
  shape: [number, number];
  /** Real (unpadded) length of each row. */
  lengths: number[];
}

/** The JSON form of a tokenizer (what `toJSON` returns and `tokenizerFromJSON` reads). */
export interface TokenizerJson {
  /** Always `'tessera-tokenizer'`. */
  format: 'tessera-tokenizer';
  /** Format version (1). */
  version: 1;
  /** `'char'` or `'bpe'`. */
  kind: 'char' | 'bpe';
  /** Token strings in id order. */
  vocab: string[];
  /** The special token of each role (absent or null: none). */
  specialTokens: Partial<Record<SpecialRole, string | null>>;
  /** BPE only: the merges in the order they were learned, as `[left, right]` token strings. */
  merges?: [string, string][];
  /** BPE only: how text is split into words before merging. */
  pretokenizer?: 'words' | 'none';
}

/** Resolves user options into the role -> string map (null for absent roles), checking them. */
export function resolveSpecials(op: string, given: SpecialTokens | undefined): Record<SpecialRole, string | null> {
  if (given !== undefined && (given === null || typeof given !== 'object')) throw new ArgumentError(op, `specialTokens must be an object like { pad: '<pad>' }, got ${JSON.stringify(given)}`);
  const out = {} as Record<SpecialRole, string | null>;
  const seen = new Map<string, SpecialRole>();
  for (const k of Object.keys(given ?? {})) {
    if (!SPECIAL_ROLES.includes(k as SpecialRole)) throw new ArgumentError(op, `unknown special-token role '${k}' (expected ${SPECIAL_ROLES.join(', ')})`);
  }
  for (const role of SPECIAL_ROLES) {
    const v = given && role in given ? given[role] : DEFAULT_SPECIAL_TOKENS[role];
    if (v === null || v === undefined) {
      out[role] = null;
      continue;
    }
    if (typeof v !== 'string' || v.length === 0) throw new ArgumentError(op, `special token '${role}' must be a non-empty string or null, got ${JSON.stringify(v)}`);
    const other = seen.get(v);
    if (other !== undefined) throw new ArgumentError(op, `special tokens '${other}' and '${role}' are both ${JSON.stringify(v)}`);
    seen.set(v, role);
    out[role] = v;
  }
  return out;
}

/** Splits a string into Unicode code points (so astral characters stay whole). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/**
 * The common part of every tokenizer. Subclasses say how plain text (without special
 * tokens) becomes ids (`encodeText`) and how the vocabulary is serialised.
 */
export abstract class Tokenizer {
  /** The name used in error messages. */
  protected abstract readonly op: string;
  /** Token strings in id order. */
  protected readonly vocab: string[];
  /** Token string -> id. */
  protected readonly ids: Map<string, number>;
  /** Role -> token string (null: the tokenizer has no such token). */
  readonly specialTokens: Readonly<Record<SpecialRole, string | null>>;
  private readonly specialIdSet: Set<number>;
  /** Special strings, longest first, for splitting text (longest match wins). */
  private readonly specialStrings: string[];
  private readonly specialFirst: Set<number>;

  protected constructor(vocab: readonly string[], specials: Record<SpecialRole, string | null>) {
    this.vocab = [...vocab];
    this.ids = new Map(this.vocab.map((t, i) => [t, i]));
    this.specialTokens = Object.freeze({ ...specials });
    this.specialIdSet = new Set();
    for (const role of SPECIAL_ROLES) {
      const s = specials[role];
      if (s !== null) this.specialIdSet.add(this.ids.get(s)!);
    }
    this.specialStrings = SPECIAL_ROLES.map((r) => specials[r]).filter((s): s is string => s !== null).sort((a, b) => b.length - a.length);
    this.specialFirst = new Set(this.specialStrings.map((s) => s.charCodeAt(0)));
  }

  /** Number of tokens, special ones included (the `inputDim` of an embedding). */
  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Id of the pad token (null if none). */
  get padId(): number | null {
    return this.roleId('pad');
  }
  /** Id of the beginning-of-sequence token (null if none). */
  get bosId(): number | null {
    return this.roleId('bos');
  }
  /** Id of the end-of-sequence token (null if none). */
  get eosId(): number | null {
    return this.roleId('eos');
  }
  /** Id of the mask token (null if none). */
  get maskId(): number | null {
    return this.roleId('mask');
  }
  /** Id of the unknown token (null if none: unknown text is then an ArgumentError). */
  get unkId(): number | null {
    return this.roleId('unk');
  }

  private roleId(role: SpecialRole): number | null {
    const s = this.specialTokens[role];
    return s === null ? null : this.ids.get(s)!;
  }

  /** The ids of all special tokens. */
  get specialIds(): number[] {
    return [...this.specialIdSet].sort((a, b) => a - b);
  }

  /** Whether `id` is a special token. */
  isSpecial(id: number): boolean {
    return this.specialIdSet.has(id);
  }

  /**
   * The token string of an id.
   * @example tok.idToToken(0) // '<pad>'
   */
  idToToken(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.length) throw new IndexError(this.op, `token id ${id} is out of range [0, ${this.vocab.length})`);
    return this.vocab[id]!;
  }

  /** The id of a token string, or null if it is not in the vocabulary. */
  tokenToId(token: string): number | null {
    return this.ids.get(token) ?? null;
  }

  /** Every token string, in id order (a copy). */
  getVocab(): string[] {
    return [...this.vocab];
  }

  /** Ids of text that holds no special tokens. */
  protected abstract encodeText(text: string): number[];

  /** The id for text the vocabulary cannot express: unk, or an ArgumentError naming it. */
  protected unknown(piece: string): number {
    const unk = this.unkId;
    if (unk === null) {
      const cp = piece.codePointAt(0) ?? 0;
      throw new ArgumentError(this.op, `${JSON.stringify(piece)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) is not in the vocabulary and the tokenizer has no unk token`);
    }
    return unk;
  }

  /**
   * Token ids of `text`.
   * @example tok.encode('cat', { addBos: true, addEos: true }) // [1, 7, 5, 24, 2]
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new ArgumentError(this.op, `encode expects a string, got ${text === null ? 'null' : typeof text}`);
    const out: number[] = [];
    if (opts.addBos) out.push(this.required('bos'));
    if (opts.parseSpecial === false || this.specialStrings.length === 0) out.push(...this.encodeText(text));
    else {
      let start = 0;
      let i = 0;
      while (i < text.length) {
        // Cheap first-character test before trying each special string (longest first).
        const hit = this.specialFirst.has(text.charCodeAt(i)) ? this.specialStrings.find((s) => text.startsWith(s, i)) : undefined;
        if (hit === undefined) {
          i++;
          continue;
        }
        if (i > start) out.push(...this.encodeText(text.slice(start, i)));
        out.push(this.ids.get(hit)!);
        i += hit.length;
        start = i;
      }
      if (start < text.length) out.push(...this.encodeText(text.slice(start)));
    }
    if (opts.addEos) out.push(this.required('eos'));
    return out;
  }

  private required(role: SpecialRole): number {
    const id = this.roleId(role);
    if (id === null) throw new ArgumentError(this.op, `add${role === 'bos' ? 'Bos' : 'Eos'} needs a ${role} token, but this tokenizer has none`);
    return id;
  }

  /**
   * The text of token ids (special tokens left out unless `skipSpecial: false`). An id
   * outside the vocabulary is an IndexError.
   * @example tok.decode(tok.encode('cat')) // 'cat'
   */
  decode(ids: ArrayLike<number> | Iterable<number>, opts: DecodeOptions = {}): string {
    if (ids === null || typeof ids !== 'object') throw new ArgumentError(this.op, `decode expects an array of token ids, got ${ids === null ? 'null' : typeof ids}`);
    const skip = opts.skipSpecial ?? true;
    let s = '';
    for (const id of Array.from(ids as ArrayLike<number>)) {
      const t = this.idToToken(id);
      if (skip && this.specialIdSet.has(id)) continue;
      s += t;
    }
    return s;
  }

  /**
   * Encodes several texts into one padded host array (pad id fills the tail).
   * @example const { ids, shape } = tok.encodeBatchIds(['cat', 'horse'], { addBos: true })
   */
  encodeBatchIds(texts: readonly string[], opts: EncodeBatchOptions = {}): EncodedBatch {
    if (!Array.isArray(texts)) throw new ArgumentError(this.op, `encodeBatch expects an array of strings, got ${texts === null ? 'null' : typeof texts}`);
    const pad = this.padId;
    if (pad === null) throw new ArgumentError(this.op, 'encodeBatch pads with the pad token, but this tokenizer has none');
    const seqs = texts.map((t) => this.encode(t, opts));
    const want = opts.length ?? 'longest';
    let len: number;
    if (want === 'longest') len = seqs.reduce((m, s) => Math.max(m, s.length), 0);
    else {
      if (!Number.isInteger(want) || want < 0) throw new ArgumentError(this.op, `length must be 'longest' or a non-negative integer, got ${JSON.stringify(want)}`);
      len = want;
      if (!opts.truncate) {
        const i = seqs.findIndex((s) => s.length > len);
        if (i >= 0) throw new ArgumentError(this.op, `text ${i} has ${seqs[i]!.length} tokens, more than length ${len}; pass truncate: true to cut it`);
      }
    }
    const ids = new Int32Array(seqs.length * len).fill(pad);
    const lengths = seqs.map((s, r) => {
      const n = Math.min(s.length, len);
      for (let j = 0; j < n; j++) ids[r * len + j] = s[j]!;
      return n;
    });
    return { ids, shape: [seqs.length, len], lengths };
  }

  /**
   * Encodes several texts into an int32 tensor `[texts, length]`, padded with the pad id
   * (caller disposes it).
   * @example const x = tok.encodeBatch(['cat', 'horse'], { addBos: true, addEos: true })
   */
  encodeBatch(texts: readonly string[], opts: EncodeBatchOptions = {}): Tensor {
    const b = this.encodeBatchIds(texts, opts);
    return tensor(b.ids, b.shape, 'int32');
  }

  /** The JSON form (see {@link TokenizerJson}); `JSON.stringify(tok)` writes it. */
  abstract toJSON(): TokenizerJson;

  /** The special-token part of the JSON form. */
  protected specialJson(): Partial<Record<SpecialRole, string | null>> {
    return { ...this.specialTokens };
  }
}

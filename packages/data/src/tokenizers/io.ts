/**
 * Tokenizer files: the JSON form (`tok.toJSON()`), checked field by field when read back so
 * that a wrong or damaged file is a FormatError saying what is wrong, never a tokenizer that
 * silently maps text to other ids.
 * @module
 */
import { ArgumentError, FormatError, TesseraError } from '@tessera/core';
import { SPECIAL_ROLES, type SpecialRole, type Tokenizer, type TokenizerJson } from './base.js';
import { BpeTokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';

const OP = 'tokenizerFromJSON';

function fail(what: string, source?: string): never {
  throw new FormatError(OP, source ? `${source}: ${what}` : what);
}

/**
 * Rebuilds a tokenizer from its JSON form (an object or the JSON text). Checks the format
 * tag, version, kind, that the vocabulary is a list of distinct strings, that each special
 * token and every merge's parts are in it, and that rebuilding gives the same ids; anything
 * else is a FormatError.
 * @example const tok = tokenizerFromJSON(JSON.parse(text)) // CharTokenizer | BpeTokenizer
 */
export function tokenizerFromJSON(json: unknown, source?: string): CharTokenizer | BpeTokenizer {
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json) as unknown;
    } catch (e) {
      fail(`not valid JSON (${(e as Error).message})`, source);
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(`expected a tokenizer object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`, source);
  const j = json as Partial<Record<keyof TokenizerJson, unknown>>;
  if (j.format !== 'tessera-tokenizer') fail(`not a Tessera tokenizer (format is ${JSON.stringify(j.format)}, expected "tessera-tokenizer")`, source);
  if (j.version !== 1) fail(`unsupported version ${JSON.stringify(j.version)} (this build reads version 1)`, source);
  if (j.kind !== 'char' && j.kind !== 'bpe') fail(`unknown kind ${JSON.stringify(j.kind)} (expected "char" or "bpe")`, source);
  if (!Array.isArray(j.vocab)) fail('vocab must be an array of token strings', source);
  const vocab = j.vocab as unknown[];
  const seen = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (typeof t !== 'string' || t.length === 0) fail(`vocab[${i}] must be a non-empty string, got ${JSON.stringify(t)}`, source);
    const prev = seen.get(t);
    if (prev !== undefined) fail(`vocab[${i}] ${JSON.stringify(t)} repeats vocab[${prev}]`, source);
    seen.set(t, i);
  });
  const sp = j.specialTokens ?? {};
  if (sp === null || typeof sp !== 'object' || Array.isArray(sp)) fail('specialTokens must be an object like { "pad": "<pad>" }', source);
  const specials: Partial<Record<SpecialRole, string | null>> = {};
  for (const [role, v] of Object.entries(sp as Record<string, unknown>)) {
    if (!SPECIAL_ROLES.includes(role as SpecialRole)) fail(`specialTokens has unknown role "${role}" (expected ${SPECIAL_ROLES.join(', ')})`, source);
    if (v !== null && typeof v !== 'string') fail(`specialTokens.${role} must be a string or null, got ${JSON.stringify(v)}`, source);
    if (typeof v === 'string' && !seen.has(v)) fail(`special token ${role} ${JSON.stringify(v)} is not in the vocab`, source);
    specials[role as SpecialRole] = v as string | null;
  }
  let tok: CharTokenizer | BpeTokenizer;
  try {
    if (j.kind === 'char') tok = CharTokenizer.fromVocab(vocab as string[], specials);
    else {
      if (!Array.isArray(j.merges)) fail('a bpe tokenizer needs merges: an array of [left, right] pairs', source);
      const merges = j.merges as unknown[];
      merges.forEach((m, i) => {
        if (!Array.isArray(m) || m.length !== 2 || typeof m[0] !== 'string' || typeof m[1] !== 'string') fail(`merges[${i}] must be a pair of strings, got ${JSON.stringify(m)}`, source);
        if (!seen.has(m[0] as string) || !seen.has(m[1] as string)) fail(`merges[${i}] ${JSON.stringify(m)} uses a token that is not in the vocab`, source);
      });
      const pre = j.pretokenizer ?? 'words';
      if (pre !== 'words' && pre !== 'none') fail(`pretokenizer must be "words" or "none", got ${JSON.stringify(pre)}`, source);
      tok = BpeTokenizer.fromParts(vocab as string[], specials, merges as [string, string][], pre);
    }
  } catch (e) {
    if (e instanceof FormatError) throw e;
    if (e instanceof TesseraError) fail(e.message.replace(/^[^:]*: /, ''), source);
    throw e;
  }
  // The ids must be the saved ones: a reordered or edited vocab would silently change them.
  const rebuilt = tok.getVocab();
  if (rebuilt.length !== vocab.length) fail(`the merges and characters give ${rebuilt.length} tokens but the vocab lists ${vocab.length}`, source);
  const i = rebuilt.findIndex((t, k) => t !== vocab[k]);
  if (i >= 0) fail(`vocab[${i}] is ${JSON.stringify(vocab[i])} but the tokenizer's rules put ${JSON.stringify(rebuilt[i])} there (special tokens first, then characters by code point${j.kind === 'bpe' ? ', then merges in order' : ''})`, source);
  return tok;
}

/**
 * Writes a tokenizer's JSON to a file (Node).
 * @example await saveTokenizer(tok, './tokenizer.json')
 */
export async function saveTokenizer(tok: Tokenizer, path: string): Promise<void> {
  const op = 'saveTokenizer';
  if (tok === null || typeof tok !== 'object' || typeof (tok as Tokenizer).toJSON !== 'function') throw new ArgumentError(op, 'expected a tokenizer');
  let fs: typeof import('node:fs/promises');
  try {
    fs = await import('node:fs/promises');
  } catch {
    throw new TesseraError(op, 'writing a file needs Node.js; use JSON.stringify(tok) instead');
  }
  await fs.writeFile(path, `${JSON.stringify(tok.toJSON())}\n`, 'utf8');
}

/**
 * Reads a tokenizer written by {@link saveTokenizer} (Node); a missing file is a
 * TesseraError, a wrong or damaged one a FormatError.
 * @example const tok = await loadTokenizer('./tokenizer.json')
 */
export async function loadTokenizer(path: string): Promise<CharTokenizer | BpeTokenizer> {
  const op = 'loadTokenizer';
  if (typeof path !== 'string') throw new ArgumentError(op, `expected a file path, got ${path === null ? 'null' : typeof path}`);
  let fs: typeof import('node:fs/promises');
  try {
    fs = await import('node:fs/promises');
  } catch {
    throw new TesseraError(op, 'reading a file needs Node.js; use tokenizerFromJSON(text) instead');
  }
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new TesseraError(op, `cannot read ${path}${code ? ` (${code})` : ''}`);
  }
  return tokenizerFromJSON(text, path);
}

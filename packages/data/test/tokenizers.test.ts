import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError, FormatError, IndexError, TesseraError } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpeTokenizer, CharTokenizer, loadTokenizer, pretokenize, saveTokenizer, tokenizerFromJSON, type TokenizerJson } from '../src/index.js';
import { expectNoLeak, useJs, values } from './setup.js';

beforeAll(() => {
  useJs();
});

const dir = mkdtempSync(join(tmpdir(), 'tessera-tokenizers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Sennrich et al.'s example: word frequencies low 5, lower 2, newest 6, widest 3.
const toy = [...Array<string>(5).fill('low'), 'lower', 'lower', ...Array<string>(6).fill('newest'), ...Array<string>(3).fill('widest')];

describe('CharTokenizer', () => {
  const tok = CharTokenizer.fromCorpus(['hello', 'world']);

  it('puts the special tokens first (pad 0) and the characters by code point', () => {
    expect(tok.getVocab()).toEqual(['<pad>', '<bos>', '<eos>', '<mask>', '<unk>', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect([tok.padId, tok.bosId, tok.eosId, tok.maskId, tok.unkId]).toEqual([0, 1, 2, 3, 4]);
    expect(tok.vocabSize).toBe(12);
    expect(tok.chars).toEqual(['d', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tok.specialIds).toEqual([0, 1, 2, 3, 4]);
  });

  it('encodes and decodes (round trip), with bos/eos and special tokens in the text', () => {
    expect(tok.encode('low', { addBos: true, addEos: true })).toEqual([1, 8, 9, 11, 2]);
    expect(tok.decode([1, 8, 9, 11, 2])).toBe('low');
    expect(tok.decode([1, 8, 9, 11, 2], { skipSpecial: false })).toBe('<bos>low<eos>');
    for (const w of ['hello', 'world', 'lord', 'dell', '']) expect(tok.decode(tok.encode(w))).toBe(w);
    expect(tok.encode('he<mask>lo')).toEqual([7, 6, 3, 8, 9]);
    expect(tok.encode('<mask><mask>')).toEqual([3, 3]);
    // parseSpecial: false reads '<' etc. as characters ('<', 'p', 'a', '>' are unknown here, 'd' is 5).
    expect(tok.encode('<pad>', { parseSpecial: false })).toEqual([4, 4, 4, 5, 4]);
    expect(tok.decode(new Int32Array([7, 6, 8, 8, 9]))).toBe('hello');
  });

  it('maps unknown characters to unk, or rejects them without an unk token', () => {
    expect(tok.encode('hex!')).toEqual([7, 6, 4, 4]);
    expect(tok.decode(tok.encode('hex!'))).toBe('he');
    const strict = CharTokenizer.fromCorpus(['ab'], { specialTokens: { unk: null, mask: null } });
    expect(strict.getVocab()).toEqual(['<pad>', '<bos>', '<eos>', 'a', 'b']);
    expect(strict.unkId).toBeNull();
    expect(() => strict.encode('abc')).toThrow(ArgumentError);
    expect(() => strict.encode('abc')).toThrow(/"c" \(U\+0063\) is not in the vocabulary/);
    const noBos = CharTokenizer.fromCorpus(['ab'], { specialTokens: { bos: null } });
    expect(() => noBos.encode('a', { addBos: true })).toThrow(/addBos needs a bos token/);
  });

  it('keeps astral characters whole and honours minFrequency / maxChars', () => {
    const t = CharTokenizer.fromCorpus(['a😀b😀'], { specialTokens: {} });
    expect(t.chars).toEqual(['a', 'b', '😀']);
    expect(t.decode(t.encode('😀a'))).toBe('😀a');
    expect(t.encode('😀')).toHaveLength(1);
    expect(CharTokenizer.fromCorpus(['aaabbc'], { minFrequency: 2 }).chars).toEqual(['a', 'b']);
    expect(CharTokenizer.fromCorpus(['aaabbbc'], { maxChars: 2 }).chars).toEqual(['a', 'b']);
  });

  it('rejects bad ids, options and inputs with typed errors', () => {
    expect(() => tok.decode([99])).toThrow(IndexError);
    expect(() => tok.decode([-1])).toThrow(/token id -1 is out of range \[0, 12\)/);
    expect(() => tok.idToToken(1.5)).toThrow(IndexError);
    expect(() => tok.encode(42 as unknown as string)).toThrow(ArgumentError);
    expect(() => CharTokenizer.fromCorpus('abc' as unknown as string[])).toThrow(ArgumentError);
    expect(() => CharTokenizer.fromCorpus([1 as unknown as string])).toThrow(/corpus item 0 must be a string/);
    expect(() => CharTokenizer.fromCorpus(['a'], { specialTokens: { pad: '<x>', eos: '<x>' } })).toThrow(/both "<x>"/);
    expect(() => CharTokenizer.fromCorpus(['a'], { specialTokens: { sep: '<sep>' } as never })).toThrow(/unknown special-token role 'sep'/);
    expect(() => new CharTokenizer({ chars: ['a', 'a'] })).toThrow(/listed twice/);
    expect(() => new CharTokenizer({ chars: ['ab'] })).toThrow(/must be one character/);
    expect(() => CharTokenizer.fromCorpus(['a'], { minFrequency: 0 })).toThrow(ArgumentError);
  });

  it('encodes a padded batch as an int32 tensor without leaking', async () => {
    await expectNoLeak(() => {
      const x = tok.encodeBatch(['low', 'hello'], { addBos: true });
      expect(x.dtype).toBe('int32');
      expect(x.shape).toEqual([2, 6]);
      expect(values(x)).toEqual([1, 8, 9, 11, 0, 0, 1, 7, 6, 8, 8, 9]);
      x.dispose();
    });
    const b = tok.encodeBatchIds(['hello', 'low'], { length: 4, truncate: true });
    expect(Array.from(b.ids)).toEqual([7, 6, 8, 8, 8, 9, 11, 0]);
    expect(b.lengths).toEqual([4, 3]);
    expect(() => tok.encodeBatchIds(['hello'], { length: 4 })).toThrow(/text 0 has 5 tokens, more than length 4/);
    expect(() => tok.encodeBatchIds(['hello'], { length: -1 })).toThrow(ArgumentError);
  });
});

describe('BpeTokenizer', () => {
  it('learns the hand-computed merges on the classic toy corpus', () => {
    const bpe = BpeTokenizer.train(toy, { vocabSize: 1000 });
    // Counts: e+s 9 and s+t 9 tie (smaller left id wins: e), then es+t 9, l+o 7 = o+w 7 (l
    // first), lo+w 7, then e+w = n+e = w+est 6 (e first), n+ew 6, new+est 6, then d+est =
    // i+d = w+i 3 (d first), i+dest 3, w+idest 3, then e+r = low+e 2 (e first), low+er 2.
    expect(bpe.merges).toEqual([
      ['e', 's'],
      ['es', 't'],
      ['l', 'o'],
      ['lo', 'w'],
      ['e', 'w'],
      ['n', 'ew'],
      ['new', 'est'],
      ['d', 'est'],
      ['i', 'dest'],
      ['w', 'idest'],
      ['e', 'r'],
      ['low', 'er'],
    ]);
    expect(bpe.alphabet).toEqual(['d', 'e', 'i', 'l', 'n', 'o', 'r', 's', 't', 'w']);
    expect(bpe.vocabSize).toBe(5 + 10 + 12);
    expect(bpe.getVocab().slice(15)).toEqual(['es', 'est', 'lo', 'low', 'ew', 'new', 'newest', 'dest', 'idest', 'widest', 'er', 'lower']);
    for (const w of ['low', 'lower', 'newest', 'widest']) expect(bpe.encode(w)).toEqual([bpe.tokenToId(w)]);
    // Unseen words replay the merges in learned order: n e w e r -> n ew e r -> new e r -> new er.
    expect(bpe.encode('newer').map((i) => bpe.idToToken(i))).toEqual(['new', 'er']);
  });

  it('stops at the vocabulary budget, maxMerges and minFrequency', () => {
    const small = BpeTokenizer.train(toy, { vocabSize: 19 });
    expect(small.merges).toEqual([
      ['e', 's'],
      ['es', 't'],
      ['l', 'o'],
      ['lo', 'w'],
    ]);
    expect(small.vocabSize).toBe(19);
    // lowest: l o w e s t -> l o w es t -> l o w est -> lo w est -> low est
    expect(small.encode('lowest').map((i) => small.idToToken(i))).toEqual(['low', 'est']);
    expect(small.decode(small.encode('lowest'))).toBe('lowest');
    expect(BpeTokenizer.train(toy, { maxMerges: 2 }).merges).toHaveLength(2);
    expect(BpeTokenizer.train(toy, { minFrequency: 3 }).merges).toHaveLength(10);
    expect(BpeTokenizer.train(toy, { minFrequency: 10 }).merges).toHaveLength(0);
  });

  it('round-trips text with spaces, punctuation and digits (lossless pre-tokenization)', () => {
    const corpus = ['the cat sat on the mat.', 'the dog sat on the log!', 'cats and dogs, 42 of them', '  two  spaces\nand a newline'];
    const bpe = BpeTokenizer.train(corpus, { vocabSize: 80 });
    expect(pretokenize('the cat, 42!', 'words')).toEqual(['the', ' cat', ',', ' 42', '!']);
    expect(pretokenize('a  b', 'words').join('')).toBe('a  b');
    for (const text of [...corpus, 'the mat sat on the cat', 'dogs, 24 cats.', ' leading space', 'the end  ', '']) {
      expect(bpe.decode(bpe.encode(text))).toBe(text);
    }
    // The learned merges compress: fewer tokens than characters on training text.
    expect(bpe.encode(corpus[0]!).length).toBeLessThan(corpus[0]!.length / 2);
    expect(bpe.encode('the')).toEqual([bpe.tokenToId('the')]);
    // Unknown characters become unk and never merge.
    expect(bpe.encode('the€').at(-1)).toBe(bpe.unkId);
    // pretokenizer 'none' merges across spaces.
    // a+b (4); ' '+ab (3) ties ab+' ' (3) and wins (' ' has the smaller id); ' ab'+' ab' (2,
    // counted with overlap) -> [ab][ ab ab][ ab]. With 'words' no token crosses a word start.
    const whole = BpeTokenizer.train(['ab ab ab ab'], { pretokenizer: 'none', vocabSize: 100 });
    expect(whole.encode('ab ab ab ab').map((i) => whole.idToToken(i))).toEqual(['ab', ' ab ab', ' ab']);
    const split = BpeTokenizer.train(['ab ab ab ab'], { vocabSize: 100 });
    expect(split.encode('ab ab ab ab').map((i) => split.idToToken(i))).toEqual(['ab', ' ab', ' ab', ' ab']);
  });

  it('cuts special tokens out of the training text and reads them when encoding', () => {
    const bpe = BpeTokenizer.train(['<bos>aaaa<eos>', '<bos>aaaa<eos>'], { vocabSize: 100 });
    expect(bpe.alphabet).toEqual(['a']);
    expect(bpe.merges).toEqual([
      ['a', 'a'],
      ['aa', 'aa'],
    ]);
    expect(bpe.encode('<bos>aaaa<mask>a')).toEqual([1, bpe.tokenToId('aaaa'), 3, bpe.tokenToId('a')]);
  });

  it('trains on a 20,000-word corpus and round-trips every word', () => {
    // Pseudo-words from a few syllables (a seeded LCG), so frequent pairs exist to merge.
    const syl = ['ka', 'to', 'ri', 'mon', 'sel', 'a', 'e', 'ing', 'ed', 'str', 'qu', 'x'];
    let seed = 12345;
    const next = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const words = Array.from({ length: 20000 }, () => Array.from({ length: 1 + next(4) }, () => syl[next(syl.length)]).join(''));
    const bpe = BpeTokenizer.train(words, { vocabSize: 120 });
    expect(bpe.vocabSize).toBe(120);
    let tokens = 0;
    let chars = 0;
    for (const w of words) {
      const ids = bpe.encode(w);
      expect(bpe.decode(ids)).toBe(w);
      tokens += ids.length;
      chars += w.length;
    }
    expect(tokens).toBeLessThan(chars * 0.5);
  });

  it('rejects bad options and merges with typed errors', () => {
    expect(() => BpeTokenizer.train(toy, { vocabSize: 0 })).toThrow(ArgumentError);
    expect(() => BpeTokenizer.train(toy, { minFrequency: 0 })).toThrow(/minFrequency must be an integer >= 1/);
    expect(() => BpeTokenizer.train(toy, { pretokenizer: 'bytes' as never })).toThrow(/pretokenizer must be 'words' or 'none'/);
    expect(() => new BpeTokenizer({ alphabet: ['a', 'b'], merges: [['ab', 'a']] })).toThrow(/merges\[0\] \["ab","a"\] uses a token/);
    expect(() => new BpeTokenizer({ alphabet: ['a'], merges: [['<pad>', 'a']] })).toThrow(ArgumentError);
  });
});

describe('tokenizer files', () => {
  const bpe = BpeTokenizer.train(toy, { vocabSize: 22 });
  const chr = CharTokenizer.fromCorpus(['hello world'], { specialTokens: { mask: null } });

  it('save/load round-trips both kinds (same ids, same merges, same specials)', async () => {
    for (const tok of [bpe, chr]) {
      const p = join(dir, `${tok.toJSON().kind}.json`);
      await saveTokenizer(tok, p);
      const back = await loadTokenizer(p);
      expect(back.constructor).toBe(tok.constructor);
      expect(back.getVocab()).toEqual(tok.getVocab());
      expect(back.specialTokens).toEqual(tok.specialTokens);
      expect(back.toJSON()).toEqual(tok.toJSON());
      for (const w of ['lowest', 'hello', 'newer wide']) expect(back.encode(w)).toEqual(tok.encode(w));
    }
    expect(chr.maskId).toBeNull();
    expect((await loadTokenizer(join(dir, 'char.json'))).maskId).toBeNull();
    // JSON.stringify uses toJSON; tokenizerFromJSON takes the text or the object.
    const parsed = tokenizerFromJSON(JSON.stringify(bpe));
    expect(parsed).toBeInstanceOf(BpeTokenizer);
    expect((parsed as BpeTokenizer).merges).toEqual(bpe.merges);
  });

  it('rejects damaged files with FormatErrors that say what is wrong', async () => {
    const good = bpe.toJSON();
    const bad = (patch: Partial<Record<keyof TokenizerJson, unknown>>): unknown => ({ ...good, ...patch });
    const cases: [unknown, RegExp][] = [
      ['{"format": "tessera-tok', /not valid JSON/],
      [[1, 2], /expected a tokenizer object, got an array/],
      [bad({ format: 'hf' }), /not a Tessera tokenizer/],
      [bad({ version: 2 }), /unsupported version 2/],
      [bad({ kind: 'wordpiece' }), /unknown kind "wordpiece"/],
      [bad({ vocab: 'abc' }), /vocab must be an array/],
      [bad({ vocab: [...good.vocab, 'e'] }), /vocab\[22\] "e" repeats vocab\[6\]/],
      [bad({ vocab: [...good.vocab.slice(0, 3), 7] }), /vocab\[3\] must be a non-empty string/],
      [bad({ specialTokens: { pad: '<nope>' } }), /special token pad "<nope>" is not in the vocab/],
      [bad({ specialTokens: { sep: '<sep>' } }), /unknown role "sep"/],
      [bad({ merges: undefined }), /needs merges/],
      [bad({ merges: [['e', 'zz']] }), /merges\[0\] \["e","zz"\] uses a token that is not in the vocab/],
      [bad({ merges: [['e']] }), /merges\[0\] must be a pair of strings/],
      [bad({ vocab: [good.vocab[0], good.vocab[2], good.vocab[1], ...good.vocab.slice(3)] }), /vocab\[1\] is "<eos>" but the tokenizer's rules put "<bos>" there/],
      [bad({ merges: good.merges!.slice(0, 3) }), /give 18 tokens but the vocab lists 22/],
      [bad({ pretokenizer: 'bytes' }), /pretokenizer must be/],
    ];
    for (const [json, msg] of cases) {
      expect(() => tokenizerFromJSON(json)).toThrow(FormatError);
      expect(() => tokenizerFromJSON(json)).toThrow(msg);
    }
    const p = join(dir, 'broken.json');
    writeFileSync(p, '{"format":"tessera-tokenizer","version":1,"kind":"char","vocab":[');
    await expect(loadTokenizer(p)).rejects.toThrow(FormatError);
    await expect(loadTokenizer(p)).rejects.toThrow(/broken\.json: not valid JSON/);
    const missing = loadTokenizer(join(dir, 'missing.json'));
    await expect(missing).rejects.toThrow(TesseraError);
    await expect(loadTokenizer(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json \(ENOENT\)/);
    await expect(loadTokenizer(join(dir, 'missing.json'))).rejects.not.toThrow(FormatError);
  });
});

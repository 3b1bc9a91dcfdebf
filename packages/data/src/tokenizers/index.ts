/**
 * Tokenizers: character-level and byte-pair encoding, with special tokens and JSON files.
 * @module
 */
export {
  Tokenizer,
  DEFAULT_SPECIAL_TOKENS,
  SPECIAL_ROLES,
  type SpecialRole,
  type SpecialTokens,
  type EncodeOptions,
  type DecodeOptions,
  type EncodeBatchOptions,
  type EncodedBatch,
  type TokenizerJson,
} from './base.js';
export { CharTokenizer, type CharTokenizerOptions, type CharTrainOptions } from './char.js';
export { BpeTokenizer, pretokenize, type BpePretokenizer, type BpeTokenizerOptions, type BpeTrainOptions } from './bpe.js';
export { tokenizerFromJSON, saveTokenizer, loadTokenizer } from './io.js';

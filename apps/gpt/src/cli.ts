/**
 * The command line of the gpt app: options, their defaults, and backend selection (as in
 * apps/mnist: `js` ships with `tessera`, the others load from their packages).
 * @module
 */
import { intFlag, numberFlag, parseFlags } from '@tessera/app-kit';

export { useBackend } from '@tessera/app-kit';

/** Everything a run needs. */
export interface Options {
  /** `gpt` (default): next-character language model; `bert`: masked-character encoder. */
  model: 'gpt' | 'bert';
  /** Backend name (default `js`). */
  backend: string;
  /** Optimisation steps (default: gpt 1200, bert 300). */
  steps: number;
  /** Words per batch (default: gpt 16, bert 64; every batch holds words of one length). */
  batchSize: number;
  /** Peak learning rate of Adam (cosine decay after a short warmup; default: gpt 5e-3, bert 3e-3). */
  learningRate: number;
  /** Seeds the split, initialisation, batches, masks and sampling (default 0). */
  seed: number;
  /** Width of the residual stream (default 64). */
  dModel: number;
  /** Transformer blocks (default 3). */
  layers: number;
  /** Attention heads (default 4). */
  heads: number;
  /** MLP hidden size (default 4 · dModel). */
  intermediateDim: number;
  /** Held-out words for validation (default 2000). */
  valWords: number;
  /** Training words to use (default all that are not held out). */
  trainWords?: number;
  /** Validate (and checkpoint, and draw the curves) every n steps (default steps / 10). */
  evalEvery?: number;
  /** Words to invent at the end (default 12). */
  samples: number;
  /** Sampling temperature (default 0.8). */
  temperature: number;
  /** Top-k sampling (default 0: off). */
  topK: number;
  /** Top-p sampling (default 1: off). */
  topP: number;
  /** Where the checkpoint, tokenizer and curves go (default `./gpt-model` / `./bert-model`). */
  out: string;
  /** Progress output: `auto` (bar on a terminal, a line per round otherwise) or 0. */
  verbose: 0 | 1 | 2 | 'auto';
  /** Where the app's own lines go. */
  print: (line: string) => void;
}

/** The usage text. */
export const USAGE = `Usage: gpt [options]

Trains a small transformer on the English word list (package word-list), character by
character, and reports its validation loss next to the unigram baseline. --model gpt (the
default) is a decoder-only language model that then invents words (decoded with a KV cache,
checked against decoding without one); --model bert is an encoder trained to recover masked
characters, reported as masked-character accuracy against the most-frequent-character baseline.

Options:
  --model <gpt|bert>     which model (default gpt)
  --backend <name>       js, wasm, native or webgpu (default js)
  --steps <n>            optimisation steps (default 1200 for gpt, 300 for bert)
  --batch-size <n>       words per batch (default 16 for gpt, 64 for bert)
  --lr <x>               peak learning rate (default 0.005 for gpt, 0.003 for bert)
  --seed <n>             seed of split, initialisation, batches and sampling (default 0)
  --d-model <n>          model width (default 64)
  --layers <n>           transformer blocks (default 3)
  --heads <n>            attention heads (default 4)
  --intermediate <n>     MLP hidden size (default 4 x d-model)
  --val-words <n>        held-out validation words (default 2000)
  --train-words <n>      training words to use (default all others)
  --eval-every <n>       validate, checkpoint and chart every n steps (default steps/10)
  --samples <n>          words to invent at the end (default 12)
  --temperature <x>      sampling temperature (default 0.8; 0 = greedy)
  --top-k <n>            sample from the k most likely characters (default off)
  --top-p <x>            nucleus sampling (default off)
  --out <dir>            checkpoint, tokenizer and curves (default ./gpt-model or ./bert-model)
  --quiet                no progress bar
  -h, --help             show this text`;

/**
 * Steps and batch size per model, chosen so that a default run takes about two minutes of
 * one core on js: the GPT learns from every position and gains most from many small steps;
 * BERT learns only from the ~15% masked positions, so it takes bigger batches.
 */
export const MODEL_DEFAULTS = { gpt: { steps: 1200, batchSize: 16, learningRate: 5e-3 }, bert: { steps: 300, batchSize: 64, learningRate: 3e-3 } } as const;

/** The defaults of every option (those of the GPT; `parseArgs` adjusts steps and batch size for BERT). */
export function defaults(print: (line: string) => void = console.log): Options {
  return {
    model: 'gpt',
    backend: 'js',
    steps: MODEL_DEFAULTS.gpt.steps,
    batchSize: MODEL_DEFAULTS.gpt.batchSize,
    learningRate: MODEL_DEFAULTS.gpt.learningRate,
    seed: 0,
    dModel: 64,
    layers: 3,
    heads: 4,
    intermediateDim: 256,
    valWords: 2000,
    samples: 12,
    temperature: 0.8,
    topK: 0,
    topP: 1,
    out: '',
    verbose: 'auto',
    print,
  };
}

/**
 * Parses the command line (a leading `--`, as `pnpm start -- …` passes it, is ignored).
 * Returns null for `--help`.
 * @example parseArgs(['--model', 'bert', '--steps', '100'])
 */
export function parseArgs(argv: readonly string[], print: (line: string) => void = console.log): Options | null {
  const str = { type: 'string' } as const;
  const { values: v } = parseFlags(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      model: str,
      backend: str,
      steps: str,
      'batch-size': str,
      lr: str,
      seed: str,
      'd-model': str,
      layers: str,
      heads: str,
      intermediate: str,
      'val-words': str,
      'train-words': str,
      'eval-every': str,
      samples: str,
      temperature: str,
      'top-k': str,
      'top-p': str,
      out: str,
      quiet: { type: 'boolean' },
    },
    USAGE,
  );
  if (v.help) return null;
  const o = defaults(print);
  if (v.model !== undefined) {
    if (v.model !== 'gpt' && v.model !== 'bert') throw new Error(`--model must be gpt or bert, got ${JSON.stringify(v.model)}`);
    o.model = v.model;
  }
  if (v.backend !== undefined) {
    if (!v.backend) throw new Error('--backend needs a name (js, wasm, native, webgpu)');
    o.backend = v.backend;
  }
  const int = (flag: keyof typeof v & string, min: number): number | undefined => (v[flag] === undefined ? undefined : intFlag(`--${flag}`, v[flag] as string, min));
  const num = (flag: keyof typeof v & string, ok: (x: number) => boolean, what: string): number | undefined => (v[flag] === undefined ? undefined : numberFlag(`--${flag}`, v[flag] as string, ok, what));
  const model = MODEL_DEFAULTS[o.model];
  o.steps = int('steps', 1) ?? model.steps;
  o.batchSize = int('batch-size', 1) ?? model.batchSize;
  o.learningRate = num('lr', (x) => x > 0, 'a positive number') ?? model.learningRate;
  o.seed = int('seed', 0) ?? o.seed;
  o.dModel = int('d-model', 1) ?? o.dModel;
  o.layers = int('layers', 1) ?? o.layers;
  o.heads = int('heads', 1) ?? o.heads;
  o.intermediateDim = int('intermediate', 1) ?? 4 * o.dModel;
  o.valWords = int('val-words', 1) ?? o.valWords;
  o.trainWords = int('train-words', 1) ?? o.trainWords;
  o.evalEvery = int('eval-every', 1) ?? o.evalEvery;
  o.samples = int('samples', 0) ?? o.samples;
  o.temperature = num('temperature', (x) => x >= 0, 'a number >= 0') ?? o.temperature;
  o.topK = int('top-k', 0) ?? o.topK;
  o.topP = num('top-p', (x) => x > 0 && x <= 1, 'a number in (0, 1]') ?? o.topP;
  if (v.out !== undefined) o.out = v.out;
  if (v.quiet) o.verbose = 0;
  if (o.dModel % o.heads !== 0) throw new Error(`--d-model ${o.dModel} must be a multiple of --heads ${o.heads}`);
  if (o.out === '') o.out = o.model === 'gpt' ? './gpt-model' : './bert-model';
  return o;
}


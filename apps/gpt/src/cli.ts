/**
 * The command line of the gpt app: options, their defaults, and backend selection (as in
 * apps/mnist: `js` ships with `tessera`, the others load from their packages).
 * @module
 */
import { cliArgs, intFlag, numberFlag } from '@tessera/app-kit';

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
  const args = cliArgs(argv);
  const o = defaults(print);
  let intermediateGiven = false;
  let stepsGiven = false;
  let batchGiven = false;
  let lrGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case '-h':
      case '--help':
        return null;
      case '--model': {
        const v = value();
        if (v !== 'gpt' && v !== 'bert') throw new Error(`--model must be gpt or bert, got ${JSON.stringify(v)}`);
        o.model = v;
        break;
      }
      case '--backend': {
        const v = value();
        if (!v) throw new Error('--backend needs a name (js, wasm, native, webgpu)');
        o.backend = v;
        break;
      }
      case '--steps':
        o.steps = intFlag(flag, value(), 1);
        stepsGiven = true;
        break;
      case '--batch-size':
        o.batchSize = intFlag(flag, value(), 1);
        batchGiven = true;
        break;
      case '--lr':
        o.learningRate = numberFlag(flag, value(), (x) => x > 0, 'a positive number');
        lrGiven = true;
        break;
      case '--seed':
        o.seed = intFlag(flag, value(), 0);
        break;
      case '--d-model':
        o.dModel = intFlag(flag, value(), 1);
        break;
      case '--layers':
        o.layers = intFlag(flag, value(), 1);
        break;
      case '--heads':
        o.heads = intFlag(flag, value(), 1);
        break;
      case '--intermediate':
        o.intermediateDim = intFlag(flag, value(), 1);
        intermediateGiven = true;
        break;
      case '--val-words':
        o.valWords = intFlag(flag, value(), 1);
        break;
      case '--train-words':
        o.trainWords = intFlag(flag, value(), 1);
        break;
      case '--eval-every':
        o.evalEvery = intFlag(flag, value(), 1);
        break;
      case '--samples':
        o.samples = intFlag(flag, value(), 0);
        break;
      case '--temperature':
        o.temperature = numberFlag(flag, value(), (x) => x >= 0, 'a number >= 0');
        break;
      case '--top-k':
        o.topK = intFlag(flag, value(), 0);
        break;
      case '--top-p':
        o.topP = numberFlag(flag, value(), (x) => x > 0 && x <= 1, 'a number in (0, 1]');
        break;
      case '--out':
        o.out = value() ?? o.out;
        break;
      case '--quiet':
        o.verbose = 0;
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(a)}\n\n${USAGE}`);
    }
  }
  if (!intermediateGiven) o.intermediateDim = 4 * o.dModel;
  if (!stepsGiven) o.steps = MODEL_DEFAULTS[o.model].steps;
  if (!batchGiven) o.batchSize = MODEL_DEFAULTS[o.model].batchSize;
  if (!lrGiven) o.learningRate = MODEL_DEFAULTS[o.model].learningRate;
  if (o.dModel % o.heads !== 0) throw new Error(`--d-model ${o.dModel} must be a multiple of --heads ${o.heads}`);
  if (o.out === '') o.out = o.model === 'gpt' ? './gpt-model' : './bert-model';
  return o;
}


/**
 * What the example apps (mnist, gpt, finetune) share: `--backend <name>` and the flag parsing of their command lines.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type BackendFactory, init, registerBackend } from 'tessera';

/** The factory each optional backend package exports. */
const FACTORIES: Record<string, string> = { wasm: 'createWasmBackend', native: 'createNativeBackend', webgpu: 'createWebGpuBackend' };

/**
 * Makes `name` the current backend and returns its name. `js` ships with `tessera`; the
 * others are loaded from their package (`@tessera/backend-<name>`) when it is installed —
 * imported only when asked for, so an app runs where an optional backend cannot load.
 * @example await useBackend('wasm')
 */
export async function useBackend(name: string): Promise<string> {
  if (name !== 'js') {
    const factoryName = FACTORIES[name];
    if (factoryName === undefined) throw new Error(`unknown backend '${name}' (expected ${['js', ...Object.keys(FACTORIES)].join(', ')})`);
    try {
      const mod = (await import(`@tessera/backend-${name}`)) as Record<string, unknown>;
      const factory = mod[factoryName] as BackendFactory | undefined;
      if (typeof factory !== 'function') throw new Error(`@tessera/backend-${name} has no ${factoryName}()`);
      registerBackend(name, factory, 1);
    } catch (e) {
      throw new Error(`backend '${name}' is not available: ${(e as Error).message}`);
    }
  }
  const { backend, failures } = await init({ prefer: [name] });
  if (failures.length > 0) throw new Error(`backend '${name}' failed: ${failures.map((f) => f.reason).join('; ')}`);
  return backend.name;
}

/** The command-line arguments without the leading `--` that `pnpm start -- …` passes on. */
function cliArgs(argv: readonly string[]): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}

/** The flags a CLI takes: `string` ones take a value (`--epochs 3` or `--epochs=3`), `boolean` ones none. */
export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command line with Node's `util.parseArgs` (strict): `--flag value`, `--flag=value`
 * and boolean flags, a leading `--` ignored. An unknown flag, a missing value or an extra
 * positional argument (beyond `maxPositionals`) is an error naming it, followed by `usage`.
 * @example parseFlags(['--epochs', '3'], { epochs: { type: 'string' } }, USAGE).values.epochs // '3'
 */
export function parseFlags<F extends FlagSpec>(argv: readonly string[], flags: F, usage: string, maxPositionals = 0): { values: { [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : string }; positionals: string[] } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: cliArgs(argv), options: flags, strict: true, allowPositionals: true });
  } catch (e) {
    // Node's messages ("Unknown option '--x'", "Option '--epochs <value>' argument missing"), in our lower
    // case and without its hint about a positional after `--` (our CLIs drop a leading `--`).
    const msg = (e instanceof Error ? e.message : String(e)).split('. To specify a positional argument')[0]!;
    throw new Error(`${msg.charAt(0).toLowerCase()}${msg.slice(1)}\n\n${usage}`);
  }
  if (parsed.positionals.length > maxPositionals) throw new Error(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}\n\n${usage}`);
  return parsed as never;
}

/**
 * A flag's value as an integer >= `min`, or an error naming the flag and what it got.
 * @example intFlag('--epochs', '10', 1) // 10
 */
export function intFlag(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return n;
}

/**
 * A flag's value as a finite number accepted by `ok` (`what` describes it for the error).
 * @example numberFlag('--lr', '0.01', (x) => x > 0, 'a positive number') // 0.01
 */
export function numberFlag(flag: string, v: string | undefined, ok: (x: number) => boolean, what: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || !ok(n)) throw new Error(`${flag} needs ${what}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return n;
}

/**
 * Entry point of `pnpm --filter gpt start`: `node dist/main.js [options]` (see `--help`).
 * @module
 */
import { parseArgs, USAGE } from './cli.js';
import { run } from './train.js';

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o === null) console.log(USAGE);
  else await run(o);
}

main().catch((e: unknown) => {
  console.error(`gpt: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});

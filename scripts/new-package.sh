#!/usr/bin/env bash
# Scaffolds packages/<dir> as an ESM+CJS+d.ts tsup package: scripts/new-package.sh <dir> <name> [dep ...]
set -euo pipefail
dir=packages/$1; name=$2; shift 2
mkdir -p "$dir/src" "$dir/test"
deps=""
for d in "$@"; do deps="$deps\"$d\": \"workspace:*\","; done
deps="{${deps%,}}"
node -e '
const [dir, name, deps] = process.argv.slice(1);
const pkg = {
  name, version: "0.1.0", description: "", license: "MIT", type: "module", sideEffects: false,
  main: "./dist/index.cjs", module: "./dist/index.js", types: "./dist/index.d.ts",
  exports: {
    ".": { import: { types: "./dist/index.d.ts", default: "./dist/index.js" },
           require: { types: "./dist/index.d.cts", default: "./dist/index.cjs" } },
    "./package.json": "./package.json" },
  files: ["dist"],
  scripts: { build: "tsup", test: "vitest run", typecheck: "tsc --noEmit -p tsconfig.json" },
  dependencies: JSON.parse(deps),
};
require("fs").writeFileSync(dir + "/package.json", JSON.stringify(pkg, null, 2) + "\n");
' "$dir" "$name" "$deps"
cat > "$dir/tsconfig.json" <<'J'
{ "extends": "../../tsconfig.base.json", "compilerOptions": { "rootDir": ".", "outDir": "dist" }, "include": ["src", "test"] }
J
cat > "$dir/tsup.config.ts" <<'J'
import { defineConfig } from 'tsup';

export default defineConfig({ entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022' });
J
cat > "$dir/vitest.config.ts" <<'J'
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['test/**/*.test.ts'] } });
J
[ -f "$dir/typedoc.json" ] || echo '{ "entryPoints": ["src/index.ts"], "disableSources": true }' > "$dir/typedoc.json"

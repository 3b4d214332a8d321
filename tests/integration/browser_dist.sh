#!/bin/bash
# browser_dist.sh - web/dist (committed, served by the daemon) is exactly what
# `npm --prefix web ci && npm --prefix web run build` produces from web/src
# and the lock file: web/build.mjs --check builds into a temporary
# directory and compares byte for byte. Skips (77) without node or
# web/node_modules (scripts/install-deps.sh test runs npm ci there).
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null || skip_all "node not installed"
[ -d "$MW_SOURCE_DIR/web/node_modules/esbuild" ] ||
    skip_all "web/node_modules missing (npm --prefix web ci)"
MW_TEST=browser_dist
if out=$(node "$MW_SOURCE_DIR/web/build.mjs" --check 2>&1); then
	ok "$out"
else
	fail "web/dist is reproducible from the sources"
	printf '%s\n' "$out" | sed 's/^/     | /'
fi
printf '# %s: %d ok, %d failed\n' "$MW_TEST" "$MW_PASS" "$MW_FAILED"
[ "$MW_FAILED" -eq 0 ]

#!/usr/bin/env bash
# oracle-env.sh — makes the HF tokenizers oracle (Rust, @anush008/tokenizers 0.6.0) available for
# tests that run it at test time, and prints its node_modules folder (for $ORACLE_NODE_MODULES).
# Installs it from bench/tokenize-oracle's committed lock file (npm ci) when missing, under a
# lock so parallel tests do not install twice. Exit status 77 = the oracle cannot run here (no
# node/npm, or no registry): the calling test must report SKIP — except under CI=true, where
# that is a failure (exit 1), since CI has node and the npm registry.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$here/../../bench/tokenize-oracle" && pwd)
cannot() {
  echo "oracle-env: $*" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
  exit 77
}
command -v node > /dev/null || cannot "node is not installed"
if [ ! -f "$dir/node_modules/@anush008/tokenizers/package.json" ]; then
  command -v npm > /dev/null || cannot "npm is not installed"
  (
    flock 9
    [ -f "$dir/node_modules/@anush008/tokenizers/package.json" ] ||
      (cd "$dir" && npm ci --silent --no-audit --no-fund > /dev/null 2>&1)
  ) 9> "$dir/.npm-ci.lock" || cannot "npm ci in $dir failed (no npm registry?)"
fi
node -e "require('$dir/node_modules/@anush008/tokenizers')" 2> /dev/null || cannot "the oracle does not load in $dir"
echo "$dir/node_modules"

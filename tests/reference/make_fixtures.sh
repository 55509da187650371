#!/bin/bash
# make_fixtures.sh — regenerate every committed fixture and golden of tests/reference/
# (tests/fixtures/{neox,gpt2}-*, tests/golden/{neox,gpt2}-*) byte-identically (everything is seeded).
#
# usage: bash tests/reference/make_fixtures.sh [ORACLE_NODE_MODULES_DIR]
# Needs Debian's /usr/bin/python3 with python3-torch + python3-numpy, and node with
# @anush008/tokenizers@0.6.0 for the test_prompt goldens of neox-vocab-f16 / gpt2-vocab-f16
# and the induction pools / token strings of the scan goldens:
#   npm install --prefix /tmp/oracle @anush008/tokenizers@0.6.0
#   bash tests/reference/make_fixtures.sh /tmp/oracle/node_modules
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mods="${1:-${ORACLE_NODE_MODULES:-}}"
[ -n "$mods" ] || { echo "make_fixtures.sh: give the oracle's node_modules dir (or set ORACLE_NODE_MODULES)" >&2; exit 2; }
py=/usr/bin/python3
cd "$repo"
"$py" tests/reference/neox_ref.py --out tests/fixtures --golden tests/golden \
    --shared "$repo/../shared" --oracle-modules "$mods"
"$py" tests/reference/gpt2_ref.py --out tests/fixtures --golden tests/golden \
    --shared "$repo/../shared" --oracle-modules "$mods"
"$py" tests/reference/metrics_ref.py --fixtures tests/fixtures --golden tests/golden \
    --shared "$repo/../shared" --oracle-modules "$mods"
"$py" tests/reference/nilpotent_ref.py --out tests/fixtures --golden tests/golden

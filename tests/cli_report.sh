#!/bin/bash
# cli_report.sh — the report and inspection commands end to end:
#  - `headscan scan` of the vocab-sized checkpoint over the shared corpus' tokens, then
#    `headscan report`, opened in headless Chromium (Debian's /usr/bin/chromium through
#    playwright-core, tools/report/check_report.mjs): no console errors, no network, every
#    plot drawn with data, the head table sortable; at window widths 1280 and 1920 px no plot
#    title's box intersects its mode bar and neither the page nor the head table scrolls sideways;
#    screenshots → <build>/report-screenshot.png (full page), report-screenshot-{1280,1920}.png;
#    a scan of the nilpotent-OV fixture: its ill-conditioned eigenvalue scores greyed with a tooltip;
#  - `headscan prompt` == the torch reference's test_prompt output (tests/golden), and its
#    repr line == CPython's repr of the str tokens on a prompt full of tricky characters;
#  - head-vocab, examples, tokens-html, scan --report, and bad inputs;
#  - the same on the GPT-2-vocabulary fixture (gpt2-vocab-f16, real GPT-2 tokenizer, BOS 50256):
#    prompt == gpt2_ref.py's test_prompt, head-vocab == metrics_ref.py, report and examples.
# usage: bash cli_report.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
HS=$(realpath "$1"); SRC=$(realpath "$2"); SHARED=$(realpath "$3")
PY=/usr/bin/python3
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fail=0; n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
bad() { n=$((n+1)); fail=1; echo "FAIL $n - $1"; }
VOCAB=$SRC/tests/fixtures/neox-vocab-f16
TINY=$SRC/tests/fixtures/neox-tiny-f32
TOK=$SHARED/data/tokenizers/gpt-neox-20b.tokenizer.json
CORPUS=$SHARED/data/corpus/dev.tl-n256-shuffle42.npy
NODE_DIR=$SRC/tools/report
SHOT=$(cd "$(dirname "$HS")" && pwd)/report-screenshot.png

# ---- the browser needs: node, playwright-core + plotly (npm ci), chromium (scripts/deps.sh)
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ] || [ ! -f "$NODE_DIR/node_modules/plotly.js-dist-min/plotly.min.js" ]; then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund >/dev/null 2>&1) || echo "note: npm ci failed in $NODE_DIR"
fi

# ---- scan + report
if "$HS" scan --model "$VOCAB" --tokenizer "$TOK" --tokens "$CORPUS" --prompts 24 --batch 8 --induction-batch 4 \
     --induction-len 40 --out "$W/scan" >"$W/scan.out" 2>"$W/scan.err"; then ok "scan of neox-vocab-f16 over the corpus"
else bad "scan failed: $(tail -3 "$W/scan.err")"; fi
if "$HS" report "$W/scan" --out "$W/report.html" >"$W/rep.out" 2>"$W/rep.err"; then ok "report: $(cat "$W/rep.out")"
else bad "report failed: $(cat "$W/rep.err")"; fi
SIZE=$(stat -c %s "$W/report.html" 2>/dev/null || echo 0)
grep -q "plotly.js embedded" "$W/rep.out" && ! grep -q '<script src="https://cdn.plot.ly' "$W/report.html" && ok "plotly embedded (report $SIZE bytes)" \
  || bad "plotly not embedded (npm ci in tools/report?)"
grep -q '<script id="hs-data" type="application/json">' "$W/report.html" && ok "data embedded" || bad "no data element"
if [ -x /usr/bin/chromium ] && [ -d "$NODE_DIR/node_modules/playwright-core" ]; then
  if (cd "$NODE_DIR" && timeout 600 node check_report.mjs "$W/report.html" "$SHOT") >"$W/browser.out" 2>&1; then
    ok "browser: $(grep -E '^plots' "$W/browser.out"); screenshot $SHOT"
  else bad "browser check: $(cat "$W/browser.out")"; fi
else
  bad "the browser test needs /usr/bin/chromium (bash scripts/deps.sh) and playwright-core (npm ci in tools/report)"
fi
"$HS" report "$W/scan" --cdn --out "$W/cdn.html" >"$W/cdn.out" 2>&1 && grep -q '<script src="https://cdn.plot.ly/plotly-' "$W/cdn.html" \
  && ok "--cdn links the pinned plotly version" || bad "--cdn"
HEADSCAN_PLOTLY_JS=/nonexistent/plotly.min.js "$HS" report "$W/scan" --out "$W/cdn2.html" >/dev/null 2>"$W/cdn2.err" \
  && grep -q 'warning: plotly.js is not installed' "$W/cdn2.err" && grep -q '<script src="https://cdn.plot.ly' "$W/cdn2.html" \
  && ok "without plotly.js installed: a warning and the CDN link" || bad "missing plotly: $(cat "$W/cdn2.err")"
"$HS" report "$W/nothing" --out "$W/never.html" >/dev/null 2>"$W/e1"; rc=$?
[ $rc -ne 0 ] && [ ! -e "$W/never.html" ] && grep -q "$W/nothing" "$W/e1" && ok "missing scan folder: error naming it, nothing written" \
  || bad "missing scan folder (rc $rc): $(cat "$W/e1")"
"$HS" report >/dev/null 2>&1; [ $? -eq 2 ] && ok "no SCAN_DIR: usage error" || bad "no SCAN_DIR"
"$HS" scan --model "$TINY" --tokens "$SRC/tests/golden/neox-tiny-f32/tokens.npy" --batch 2 --induction-batch 2 --induction-len 5 \
  --skip frac_copy_argmax,eigenvalues,induction --out "$W/scan2" --report >"$W/s2.out" 2>"$W/s2.err" && [ -s "$W/scan2/report.html" ] \
  && ok "scan --report writes OUT/report.html" || bad "scan --report: $(tail -2 "$W/s2.err")"
# ill-conditioned eigenvalue scores (tests/fixtures/gpt2-nilpotent-f32, L0H0): greyed with a tooltip
if [ -x /usr/bin/chromium ] && [ -d "$NODE_DIR/node_modules/playwright-core" ]; then
  if "$HS" scan --model "$SRC/tests/fixtures/gpt2-nilpotent-f32" --tokens "$SRC/tests/golden/gpt2-tiny-f32/tokens.npy" --prompts 0 \
       --induction-batch 2 --induction-len 5 --out "$W/nil" --report >"$W/nil.out" 2>"$W/nil.err"; then
    (cd "$NODE_DIR" && HS_NO_LAYOUT=1 timeout 600 node check_report.mjs "$W/nil/report.html" "$W/shot-nil.png") >"$W/browser-nil.out" 2>&1 \
      && grep -q "ill-conditioned (greyed): L0H0 eigenvals_resid, L0H0 eigenvals_vocab" "$W/browser-nil.out" \
      && ok "browser: L0H0's ill-conditioned eigenvalue scores greyed with a tooltip" || bad "browser, nilpotent head: $(cat "$W/browser-nil.out")"
  else bad "nilpotent scan --report: $(tail -3 "$W/nil.err")"; fi
fi
# skipped metrics are NaN: their maps and the induction scatter must still draw without errors
if [ -x /usr/bin/chromium ] && [ -d "$NODE_DIR/node_modules/playwright-core" ]; then
  (cd "$NODE_DIR" && HS_NO_LAYOUT=1 timeout 600 node check_report.mjs "$W/scan2/report.html" "$W/shot2.png") >"$W/browser2.out" 2>&1 \
    && ok "browser: report of a scan with skipped (NaN) metrics" || bad "browser, skipped metrics: $(cat "$W/browser2.out")"
fi

# ---- prompt == TransformerLens test_prompt (golden from the torch reference)
PROMPT="When John and Mary went to the store, John gave the bag to his friend"
"$HS" prompt --model "$VOCAB" --tokenizer "$TOK" "$PROMPT" "Mary" >"$W/tp.txt" 2>"$W/tp.err"
diff "$W/tp.txt" "$SRC/tests/golden/neox-vocab-f16/test_prompt.txt" >"$W/tp.diff" && ok "prompt output == reference test_prompt" \
  || bad "prompt differs from the golden: $(cat "$W/tp.diff" "$W/tp.err")"
"$HS" prompt --model "$VOCAB" --tokenizer "$TOK" "$PROMPT" " Mary" --top 3 >"$W/tp3.txt" 2>&1
[ "$(grep -c '^Top ' "$W/tp3.txt")" = 3 ] && [ "$(head -4 "$W/tp3.txt")" = "$(head -4 "$W/tp.txt")" ] \
  && ok "--top 3; an answer with its space is the same answer" || bad "--top 3: $(cat "$W/tp3.txt")"
# Python repr of tricky tokens (quotes, backslash, controls, non-printables) vs CPython
TRICKY=$(printf "It's \"q\" \\\\ a\tb\nc\x01d\x7f \xc3\xa9\xc2\xa0x\xe2\x80\x8by\xe3\x80\x80z '")
"$HS" prompt --model "$VOCAB" --tokenizer "$TOK" "$TRICKY" "x" --top 1 >"$W/tr.txt" 2>&1
"$HS" tokenize --tokenizer "$TOK" --prepend-bos --str-tokens --text "$TRICKY" >"$W/tr.json" 2>&1
want=$("$PY" -c "import json,sys; print('Tokenized prompt: ' + repr(json.load(open(sys.argv[1]))['str_tokens']))" "$W/tr.json")
[ "$(head -1 "$W/tr.txt")" = "$want" ] && ok "Tokenized prompt line == CPython repr on tricky tokens" \
  || bad "repr: got $(head -1 "$W/tr.txt") want $want"
# the issue's command on GPT-2: "<|endoftext|>" (50256) is the BOS shown first
TOK2=$SHARED/data/tokenizers/gpt2.tokenizer.json
G2=$SRC/tests/fixtures/gpt2-vocab-f16
"$HS" prompt --model "$G2" --tokenizer "$TOK2" "When John and Mary went to the store, John gave the bag to" " Mary" >"$W/tp2.txt" 2>"$W/tp2.err"
diff "$W/tp2.txt" "$SRC/tests/golden/gpt2-vocab-f16/test_prompt.txt" >"$W/tp2.diff" \
  && grep -q "^Tokenized prompt: \['<|endoftext|>', 'When', ' John'" "$W/tp2.txt" && ok "gpt2 prompt output == reference test_prompt" \
  || bad "gpt2 prompt differs from the golden: $(cat "$W/tp2.diff" "$W/tp2.err")"
"$HS" prompt --model "$VOCAB" "$PROMPT" "Mary" >/dev/null 2>"$W/e2"; rc=$?
[ $rc -ne 0 ] && grep -q "tokenizer" "$W/e2" && ok "prompt without a tokenizer: clear error" || bad "prompt without tokenizer: $(cat "$W/e2")"
"$HS" prompt --model "$VOCAB" --tokenizer "$TOK" "$PROMPT" >/dev/null 2>&1; [ $? -eq 2 ] && ok "prompt without ANSWER: usage error" || bad "prompt without ANSWER"

# ---- head-vocab: table and CSV agree; order; bad inputs (numbers: test_report vs torch goldens)
"$HS" head-vocab --model "$TINY" --layer 1 --head 2 --tokens "$SRC/tests/golden/neox-tiny-f32/tokens.npy" --row 1 --pos 12 --top 4 --csv >"$W/hv.csv" 2>&1
"$PY" - "$W/hv.csv" <<'EOF' && ok "head-vocab --csv: 4 top (descending) and 4 bottom (ascending) rows" || bad "head-vocab csv: $(cat "$W/hv.csv")"
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
assert r[0] == ["rank", "id", "token", "logit"], r[0]
top, bot = r[1:5], r[5:9]
assert len(r) == 9 and [int(x[0]) for x in top] == [0, 1, 2, 3] and [int(x[0]) for x in bot] == [-1, -2, -3, -4]
t = [float(x[3]) for x in top]; b = [float(x[3]) for x in bot]
assert t == sorted(t, reverse=True) and b == sorted(b) and t[-1] > b[0]
EOF
"$HS" head-vocab --model "$VOCAB" --tokenizer "$TOK" --layer 1 --head 0 --text "$PROMPT" --top 5 >"$W/hv.txt" 2>&1 \
  && grep -q "^top 5:" "$W/hv.txt" && grep -q "·friend" "$W/hv.txt" && ok "head-vocab --text (current token shown in display form)" \
  || bad "head-vocab --text: $(cat "$W/hv.txt")"
"$HS" head-vocab --model "$TINY" --layer 7 --head 0 --tokens "$SRC/tests/golden/neox-tiny-f32/tokens.npy" --row 0 --pos 3 >/dev/null 2>"$W/e3"
[ $? -ne 0 ] && grep -q "layer 7" "$W/e3" && ok "head-vocab: layer out of range" || bad "head-vocab layer: $(cat "$W/e3")"
"$HS" head-vocab --model "$TINY" --layer 0 --head 0 --tokens "$SRC/tests/golden/neox-tiny-f32/tokens.npy" --row 9 --pos 3 >/dev/null 2>"$W/e4"
[ $? -ne 0 ] && grep -q "row 9" "$W/e4" && ok "head-vocab: row out of range" || bad "head-vocab row: $(cat "$W/e4")"

# head-vocab vs the torch reference's create_vocab_df(head_vocab) top 50 and bottom 20 (metrics_ref.py):
# tolerance 1e-4·max|ref| + 1e-6 as for the scan's per-token DLA (test_scan_golden.c derives it);
# rank i must hold an id whose reference logit is within 2·tol of the reference's rank-i logit
for fx in neox-tiny-f32 neox-vocab-f16 gpt2-tiny-f32 gpt2-vocab-f16; do
  G=$SRC/tests/golden/$fx/scan
  FTOK=$TOK; case $fx in gpt2*) FTOK=$TOK2;; esac
  [ -f "$G/vocab_df_top50.json" ] || { echo "# no $G/vocab_df_top50.json: head-vocab reference check skipped"; continue; }
  read -r B P LV HV < <("$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); print(*s['head_vocab_b_p'], *s['vocab_df_head'])" "$G/stats.json")
  "$HS" head-vocab --model "$SRC/tests/fixtures/$fx" --tokenizer "$FTOK" --tokens "$G/tokens.npy" --row "$B" --pos "$P" \
    --layer "$LV" --head "$HV" --top 50 --csv >"$W/hv_$fx.csv" 2>&1
  "$PY" - "$W/hv_$fx.csv" "$G" "$LV" "$HV" <<'EOF' && ok "head-vocab $fx L${LV}H${HV}: top 50 / bottom 20 == the torch reference" || bad "head-vocab $fx vs reference"
import csv, json, sys, numpy as np
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))[1:]
g, l, h = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ref = json.load(open(f"{g}/vocab_df_top50.json", encoding="utf-8"))["rows"]
bid, bv = np.load(f"{g}/head_vocab_bottom20_ids.npy")[l, h], np.load(f"{g}/head_vocab_bottom20_values.npy")[l, h]
tol = 1e-4 * max(abs(ref[0]["logit"]), abs(float(bv[0]))) + 1e-6
top, bot = rows[:50], rows[50:70]
rl = {r["id"]: r["logit"] for r in ref}
for i, (rank, id_, tok, val) in enumerate(top):
    id_, val = int(id_), float(val)
    assert abs(val - ref[i]["logit"]) <= 2 * tol, (i, id_, val, ref[i])
    if id_ in rl: assert abs(val - rl[id_]) <= tol, (id_, val, rl[id_])
    if id_ == ref[i]["id"]: assert tok == ref[i]["token"], (tok, ref[i]["token"])
assert sum(int(r[1]) == x["id"] for r, x in zip(top, ref)) >= 45, "top-50 order"
for i, (rank, id_, tok, val) in enumerate(bot):
    assert abs(float(val) - float(bv[i])) <= 2 * tol, (i, id_, val, bv[i])
EOF
done

# ---- examples: the top value is the max of the metric over non-induction positions (numpy)
check_examples() {  # check_examples SCAN_DIR TOKENIZER LABEL
"$HS" examples "$1" --head L1H0 --metric mover_dla --exclude-induction --top 5 --tokenizer "$2" >"$W/ex.txt" 2>&1
"$PY" - "$1" "$W/ex.txt" <<'EOF' && ok "examples $3: rows/pos/values == numpy's top 5" || bad "examples $3: $(cat "$W/ex.txt")"
import sys, numpy as np
# lines end at "\n" only: a context may hold a raw "\r" (CRLF documents; TL's display form keeps it)
d, out = sys.argv[1], open(sys.argv[2], encoding="utf-8", newline="").read().split("\n")
md = np.load(f"{d}/mover_dla.npy")[1, 0]
mask = np.load(f"{d}/induction_mask.npy")
v = np.where(mask, -np.inf, md).ravel()
order = np.argsort(-v, kind="stable")[:5]
rows = [l.split() for l in out[2:7]]
P = md.shape[1]
for (rank, row, pos, val, *_), i in zip(rows, order):
    assert (int(row), int(pos)) == (i // P, i % P), (row, pos, i)
    assert abs(float(val) - v[i]) <= 1e-6 * max(1, abs(v[i])), (val, v[i])
assert "=>" in out[2]
EOF
}
check_examples "$W/scan" "$TOK" neox-vocab-f16
# GPT-2: a dataset scan with the GPT-2 tokenizer, its report and examples
if "$HS" scan --model "$G2" --tokenizer "$TOK2" --dataset "$SHARED/data/corpus/dev.jsonl" --n-ctx 128 --prompts 8 --batch 4 \
     --induction-batch 2 --induction-len 20 --out "$W/g2scan" --report >"$W/g2.out" 2>"$W/g2.err" && [ -s "$W/g2scan/report.html" ] \
     && grep -q '<script id="hs-data" type="application/json">' "$W/g2scan/report.html"; then ok "gpt2-vocab-f16: scan --dataset --report"
else bad "gpt2 scan/report: $(tail -3 "$W/g2.err")"; fi
check_examples "$W/g2scan" "$TOK2" gpt2-vocab-f16
"$HS" examples "$W/scan" --head L9H9 >/dev/null 2>"$W/e5"; [ $? -ne 0 ] && grep -q "L9H9" "$W/e5" && ok "examples: unknown head" || bad "examples L9H9: $(cat "$W/e5")"
"$HS" examples "$W/scan" --head 3.3 >/dev/null 2>&1; [ $? -eq 2 ] && ok "examples: malformed --head" || bad "examples malformed head"

# ---- tokens-html: the create_html oracle is in test_report; here the three input modes
printf '["a", " <b>", "\\n"]' >"$W/s.json"; printf '[1.0, -0.5, 0.25]' >"$W/v.json"
"$HS" tokens-html --strings "$W/s.json" --values "$W/v.json" --fragment >"$W/t1.html" 2>&1 \
  && [ "$(grep -o '<span' "$W/t1.html" | wc -l)" = 3 ] && grep -q '&nbsp;&lt;b&gt;' "$W/t1.html" && grep -q 'title="-0.5"' "$W/t1.html" \
  && ok "tokens-html --strings/--values" || bad "tokens-html strings: $(cat "$W/t1.html")"
"$HS" tokens-html "$W/scan" --row 2 --head L1H0 --metric mover_dla --tokenizer "$TOK" --out "$W/t2.html" 2>"$W/t2.err" \
  && [ "$(grep -o '<span' "$W/t2.html" | wc -l)" = 255 ] && ok "tokens-html SCAN_DIR --row (255 tokens)" || bad "tokens-html scan: $(cat "$W/t2.err")"
"$HS" tokens-html --model "$VOCAB" --tokenizer "$TOK" --text "$PROMPT" --fragment >"$W/t3.html" 2>&1 \
  && [ "$(grep -o '<span' "$W/t3.html" | wc -l)" = 16 ] && ok "tokens-html --model --text (per-token loss of 16 tokens)" || bad "tokens-html text: $(cat "$W/t3.html")"
printf '[1.0]' >"$W/v1.json"
"$HS" tokens-html --strings "$W/s.json" --values "$W/v1.json" >/dev/null 2>"$W/e6"; [ $? -ne 0 ] && grep -q "3 numbers" "$W/e6" \
  && ok "tokens-html: value count mismatch" || bad "tokens-html mismatch: $(cat "$W/e6")"

echo "1..$n"
exit $fail

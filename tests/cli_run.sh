#!/usr/bin/env bash
# cli_run.sh — `headscan run` and `headscan info` on the committed checkpoints:
# the top-10 next tokens, their logits and the per-token loss printed by
# `run --json` equal the torch reference's (tests/golden/neox-vocab-f16 from neox_ref.py,
# tests/golden/gpt2-vocab-f16 from gpt2_ref.py), and bad input exits non-zero with a
# message. Tolerances as in test_model_golden.c: 4·e32 + 16·ε·max|ref| with e32 from the
# reference's errors.json.
set -euo pipefail
HS=$1; SRC=$2
PY=/usr/bin/python3
G=$SRC/tests/golden/neox-vocab-f16
M=$SRC/tests/fixtures/neox-vocab-f16
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL: $*"; fail=$((fail+1)); }

for fx in neox-vocab-f16 gpt2-vocab-f16; do
 for row in 0 1 2; do
  toks=$($PY -c "import numpy as np; print(','.join(map(str, np.load('$SRC/tests/golden/$fx/tokens.npy')[$row])))")
  "$HS" run --model "$SRC/tests/fixtures/$fx" --tokens "$toks" --top 10 --json > "$tmp/run$row.jsonl" || bad "$fx run row $row exited $?"
  if $PY - "$SRC/tests/golden/$fx" "$row" "$tmp/run$row.jsonl" <<'PYEOF'
import json, sys, numpy as np
g, row, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
err = json.loads(open(g + "/errors.json").read().replace("NaN", "null"))["outputs"]
eps = 2.0 ** -23
top = np.load(g + "/top10.npy")[row]; topl = np.load(g + "/top10_logits.npy")[row]; loss = np.load(g + "/loss.npy")[row]
tol_l = 4 * err["logits"]["max_abs_err"] + 16 * eps * err["logits"]["max_abs_ref"]
tol_loss = 4 * err["loss"]["max_abs_err"] + 16 * eps * err["loss"]["max_abs_ref"]
lines = [json.loads(l) for l in open(out)]
assert len(lines) == top.shape[0], f"{len(lines)} positions, expected {top.shape[0]}"
for p, d in enumerate(lines):
    assert d["pos"] == p
    ids = [t["id"] for t in d["top"]]
    assert ids == list(top[p]), f"pos {p}: top ids {ids} != {list(top[p])}"
    dl = max(abs(t["logit"] - float(x)) for t, x in zip(d["top"], topl[p]))
    assert dl <= tol_l, f"pos {p}: logit diff {dl} > {tol_l}"
    assert abs(sum(t["prob"] for t in d["top"])) <= 1.0 + 1e-6
    if p + 1 < len(lines):
        assert abs(d["loss"] - float(loss[p])) <= tol_loss, f"pos {p}: loss {d['loss']} vs {loss[p]}"
    else:
        assert d["loss"] is None
PYEOF
  then ok; else bad "$fx run row $row differs from the reference"; fi
 done
done

# human-readable output shows the tokens it ran, BOS first
"$HS" run --model "$M" --tokens 0,3039,2516 --top 3 > "$tmp/h.txt" && grep -q "tokens run (3): 0 3039 2516" "$tmp/h.txt" && ok || bad "run text output"
# hooks saved as .npy, loadable by numpy with TL shapes
"$HS" run --model "$M" --tokens 0,3039,2516,285 --hooks blocks.1.attn.hook_pattern,ln_final.hook_scale --save-hooks "$tmp/hooks" --top 1 >/dev/null 2>&1 || bad "save-hooks exited $?"
$PY -c "
import numpy as np
p = np.load('$tmp/hooks/blocks.1.attn.hook_pattern.npy'); s = np.load('$tmp/hooks/ln_final.hook_scale.npy')
assert p.shape == (1, 2, 4, 4) and s.shape == (1, 4, 1), (p.shape, s.shape)
assert np.allclose(p.sum(-1), 1, atol=1e-5) and np.all(np.triu(p[0, 0], 1) == 0)
" && ok || bad "saved hooks"
"$HS" info --model "$M" > "$tmp/info.txt" && grep -q "d_vocab        50304" "$tmp/info.txt" && grep -q "memory" "$tmp/info.txt" && ok || bad "info"

# --text: tokenized with the real tokenizer.json, BOS prepended, ids shown (the spec's vector)
TOK=$3/data/tokenizers/gpt-neox-20b.tokenizer.json
"$HS" run --model "$M" --tokenizer "$TOK" --text "When John and Mary went to the store, John gave the bag to his friend" --top 2 > "$tmp/t.txt" \
  && grep -q "tokens run (17): 0 3039 2516 285 6393 2427 281 253 4657 13 2516 3534 253 7351 281 521 3331$" "$tmp/t.txt" \
  && grep -q "·Mary" "$tmp/t.txt" && ok || bad "run --text"
"$HS" run --model "$M" --tokenizer "$TOK" --text "Hello world" --no-bos --top 1 | grep -q "tokens run (2): 12092 1533$" && ok || bad "run --text --no-bos"
# GPT-2: BOS = EOS = <|endoftext|> = 50256 from config.json and the tokenizer; the ids of
# --text are the HF tokenizers oracle's (gpt2_ref.py's test_prompt_tokens.json prompt_ids)
G2=$SRC/tests/fixtures/gpt2-vocab-f16
TOK2=$3/data/tokenizers/gpt2.tokenizer.json
"$HS" info --model "$G2" | grep -q "^bos / eos      50256 / 50256$" && ok || bad "info gpt2: bos / eos"
want=$($PY -c "import json; print(' '.join(map(str, json.load(open('$SRC/tests/golden/gpt2-vocab-f16/test_prompt_tokens.json'))['prompt_ids'])))")
"$HS" run --model "$G2" --tokenizer "$TOK2" --text "When John and Mary went to the store, John gave the bag to" --top 2 > "$tmp/g.txt" \
  && grep -q "tokens run (15): $want$" "$tmp/g.txt" && [ "${want%% *}" = 50256 ] && ok || bad "run --text gpt2: $(head -3 "$tmp/g.txt")"
"$HS" run --model "$G2" --tokenizer "$TOK2" --text "Hello world" --no-bos --top 1 | grep -q "tokens run (2): 15496 995$" && ok || bad "run --text --no-bos gpt2"

# bad input: non-zero exit and a message naming the problem
expect_fail() { local what=$1 needle=$2; shift 2
  if "$@" > "$tmp/o.txt" 2> "$tmp/e.txt"; then bad "$what: exited 0"; return; fi
  grep -q -- "$needle" "$tmp/e.txt" && ok || { bad "$what: stderr lacks '$needle'"; cat "$tmp/e.txt"; }; }
expect_fail "id >= vocab" "outside the model's vocabulary" "$HS" run --model "$M" --tokens 0,50304
expect_fail "too long" "exceed" "$HS" run --model "$M" --tokens "$(seq -s, 0 512)"
expect_fail "missing model" "/nonexistent" "$HS" run --model /nonexistent --tokens 0,1
expect_fail "bad token list" "comma-separated" "$HS" run --model "$M" --tokens 0,x
expect_fail "no tokens" "required" "$HS" run --model "$M"
expect_fail "--text without a tokenizer" "tokenizer" "$HS" run --model "$M" --text "hi"
mkdir "$tmp/gemma"; echo '{"model_type": "gemma2"}' > "$tmp/gemma/config.json"
expect_fail "unsupported architecture" 'Gemma is a different family' "$HS" info --model "$tmp/gemma"

echo "cli_run: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/bash
# cli_scan.sh — `headscan scan` end to end on the tiny checkpoints: every output exists,
# loads with numpy (Debian /usr/bin/python3) with the right shapes and dtypes, matches the
# reference (the model goldens' loss; metrics_ref.py's scan goldens when present), and the
# bad inputs of the issue fail cleanly with nothing under a final name.
# usage: bash cli_scan.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
HS=$1; SRC=$2; SHARED=$3
PY=/usr/bin/python3
W=$(mktemp -d); trap 'chattr -i "$W"/ro 2>/dev/null; umount "$W"/full 2>/dev/null; rm -rf "$W"' EXIT
fail=0; n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
bad() { n=$((n+1)); fail=1; echo "FAIL $n - $1"; }
# no_outputs DIR: no scan file under a final name, and no temporaries left either
no_outputs() {
  local f
  for f in head_table.csv head_table.json head_dla.npy mover_attn.npy mover_dla.npy loss.npy num_copies.npy \
           induction_mask.npy induction_scores.npy ind_tokens.npy tokens.npy quantiles.json manifest.json; do
    [ -f "$1/$f" ] && return 1   # (a folder in the way, as in the rollback case, is not an output)
  done
  [ -z "$(ls -A "$1" 2>/dev/null | grep '\.tmp\.')" ] || return 1
  return 0
}
TINY=$SRC/tests/fixtures/neox-tiny-f32
GT=$SRC/tests/golden/neox-tiny-f32

# ---- a good scan (batch 2 over 3 rows: batches of 2 + 1)
if "$HS" scan --model "$TINY" --tokens "$GT/tokens.npy" --batch 2 --induction-batch 3 --induction-len 7 --induction-seed 5 \
     --out "$W/out" >"$W/stdout" 2>"$W/stderr"; then ok "scan exits 0"; else bad "scan failed: $(cat "$W/stderr")"; fi
grep -q "only 3 rows are available" "$W/stderr" && ok "too few rows: scanned what exists and said so" || bad "no note about too few rows"
grep -q "^top 8 heads" "$W/stdout" && ok "top heads printed" || bad "no top-heads table"
"$PY" - "$W/out" "$GT" <<'EOF' && ok "outputs load with the right shapes and match the loss golden" || bad "output check"
import sys, json, csv, numpy as np
d, gt = sys.argv[1], sys.argv[2]
L, H, N, T = 2, 4, 3, 20
P = T - 1
shapes = {"head_dla": ((L, H, N, P), "float32"), "mover_attn": ((L, H, N, P), "float32"), "mover_dla": ((L, H, N, P), "float32"),
          "loss": ((N, P), "float32"), "num_copies": ((N, P), "int64"), "induction_mask": ((N, P), "bool"),
          "induction_scores": ((L, H), "float32"), "ind_tokens": ((3, 15), "int64"), "tokens": ((N, T), "int64"),
          "eigenvals_vocab": ((L, H), "float32"), "eigenvals_resid": ((L, H), "float32"), "frac_copy_argmax": ((L, H), "float32")}
for k, (s, dt) in shapes.items():
    a = np.load(f"{d}/{k}.npy")
    assert a.shape == s and str(a.dtype) == dt, (k, a.shape, a.dtype)
assert (np.load(f"{d}/tokens.npy") == np.load(f"{gt}/tokens.npy")).all()
# loss vs the torch reference (errors.json loss max_abs_err 3.6e-6; 2e-5 allows our rounding)
assert np.abs(np.load(f"{d}/loss.npy") - np.load(f"{gt}/loss.npy")).max() < 2e-5
it = np.load(f"{d}/ind_tokens.npy")
assert (it[:, 0] == 0).all() and (it[:, 1:8] == it[:, 8:]).all() and it[:, 1:].min() >= 1 and it.max() < 512
rows = list(csv.reader(open(f"{d}/head_table.csv")))
assert rows[0] == "label,L,H,head_dla,mover_attn,mover_dla,dla_ratio,induction,eigenvals_vocab,eigenvals_resid,frac_copy_argmax,head_dla_no_ind,mover_attn_no_ind,mover_dla_no_ind,ratio_dla_no_ind,eigenvals_resid_abs_sum,eigenvals_vocab_abs_sum".split(","), rows[0]
assert len(rows) == 1 + L * H
key = [float(r[13]) for r in rows[1:]]
assert key == sorted(key, reverse=True), "sorted by mover_dla_no_ind descending"
js = json.load(open(f"{d}/head_table.json"))
assert [r["label"] for r in js] == [r[0] for r in rows[1:]]
# head table = quantiles of the arrays (torch rule; np 'linear' agrees within float rounding)
hd = np.load(f"{d}/head_dla.npy").reshape(L * H, -1)
for r in rows[1:]:
    g = int(r[1]) * H + int(r[2])
    assert abs(float(r[3]) - np.quantile(hd[g].astype(np.float64), 0.9)) < 1e-5
q = json.load(open(f"{d}/quantiles.json"))
assert len(q["tables"]["quantiles13_mover_dla_noind"]["values"]) == 13
m = json.load(open(f"{d}/manifest.json"))
for k in ("headscan_version", "model", "tokens", "timings_s", "peak_rss_bytes", "options", "input"):
    assert k in m, k
assert m["induction"]["seed"] == 5 and m["tokens"]["prompts_short"] is True
EOF

# ---- replaying induction tokens reproduces the induction scores exactly
"$HS" scan --model "$TINY" --tokens "$GT/tokens.npy" --induction-tokens "$W/out/ind_tokens.npy" --skip frac_copy_argmax,eigenvalues \
   --top 0 --out "$W/out2" >/dev/null 2>&1 && cmp -s <("$PY" -c "import numpy as np; print(np.load('$W/out/induction_scores.npy').tobytes().hex())") \
   <("$PY" -c "import numpy as np; print(np.load('$W/out2/induction_scores.npy').tobytes().hex())") \
   && ok "--induction-tokens replay gives identical induction scores" || bad "induction replay"
"$PY" -c "import numpy as np; a=np.load('$W/out2/frac_copy_argmax.npy'); assert np.isnan(a).all()" && ok "--skip leaves NaN" || bad "--skip"

# ---- --dataset: tokenized as TransformerLens does, shuffled (42): the rows scanned are the shared
# corpus golden's (dev.tl-n256-shuffle42.npy, made by the HF/TL reference pipeline)
if "$HS" scan --model "$SRC/tests/fixtures/neox-vocab-f16" --tokenizer "$SHARED/data/tokenizers/gpt-neox-20b.tokenizer.json" \
     --dataset "$SHARED/data/corpus/dev.jsonl" --n-ctx 256 --prompts 3 --batch 2 --induction-len 20 --top 0 \
     --skip frac_copy_argmax,eigenvalues --out "$W/ds" >/dev/null 2>"$W/eds"; then
  "$PY" -c "
import numpy as np, json
a = np.load('$W/ds/tokens.npy'); b = np.load('$SHARED/data/corpus/dev.tl-n256-shuffle42.npy')
assert a.shape == (3, 256) and (a == b[:3]).all()
assert np.load('$W/ds/head_dla.npy').shape == (2, 2, 3, 255)
m = json.load(open('$W/ds/manifest.json')); assert m['input']['kind'] == 'dataset' and m['input']['shuffle'] is True
" && ok "--dataset: scanned rows equal the shared TL-tokenized golden" || bad "--dataset tokens differ"
else bad "--dataset scan failed: $(cat "$W/eds")"; fi

# ---- GPT-2: BOS = EOS = pad = <|endoftext|> = 50256 (the tokenizer's, as TransformerLens sets them):
# every dataset row starts with it and holds no other (TL's tokenize_and_concatenate drops the pad
# ids, and Pile-style documents are joined with EOS = pad); the induction rows start with it and draw
# their ids from the pool of gpt2_ref/metrics_ref.py (ids 1000..9999 whose HF-decoded string has no "  ")
if "$HS" scan --model "$SRC/tests/fixtures/gpt2-vocab-f16" --tokenizer "$SHARED/data/tokenizers/gpt2.tokenizer.json" \
     --dataset "$SHARED/data/corpus/dev.jsonl" --n-ctx 128 --prompts 6 --batch 4 --induction-batch 3 --induction-len 20 \
     --skip frac_copy_argmax --top 0 --out "$W/g2" >/dev/null 2>"$W/eg2"; then
  "$PY" - "$W/g2" "$SRC/tests/golden/gpt2-vocab-f16/scan/induction_pool.npy" <<'EOF2' && ok "gpt2 --dataset scan: BOS/pad 50256, induction rows from the GPT-2 pool" || bad "gpt2 dataset scan outputs"
import sys, numpy as np
d, pool = sys.argv[1], set(np.load(sys.argv[2]).tolist())
t = np.load(f"{d}/tokens.npy")
assert t.shape == (6, 128) and (t[:, 0] == 50256).all() and not (t[:, 1:] == 50256).any(), t[:, :3]
it = np.load(f"{d}/ind_tokens.npy")
assert it.shape == (3, 41) and (it[:, 0] == 50256).all() and (it[:, 1:21] == it[:, 21:]).all()
assert set(it[:, 1:].ravel().tolist()) <= pool
assert np.isfinite(np.load(f"{d}/induction_scores.npy")).all() and np.isfinite(np.load(f"{d}/head_dla.npy")).all()
EOF2
else bad "gpt2 --dataset scan failed: $(tail -3 "$W/eg2")"; fi

# ---- metrics_ref.py goldens, when present: the CLI output equals the reference within its errors
for fx in neox-tiny-f32 neox-vocab-f16 gpt2-tiny-f32 gpt2-vocab-f16; do
  G=$SRC/tests/golden/$fx/scan
  [ -f "$G/head_table.csv" ] || { echo "# $fx: no scan goldens yet, skipped"; continue; }
  "$HS" scan --model "$SRC/tests/fixtures/$fx" --tokens "$G/tokens.npy" --induction-tokens "$G/ind_tokens.npy" --batch 4 \
     --prompts 0 --top 0 --out "$W/g-$fx" >/dev/null 2>&1 || { bad "$fx golden scan failed"; continue; }
  "$PY" - "$W/g-$fx" "$G" <<'EOF' && ok "$fx: CLI outputs match metrics_ref goldens" || bad "$fx: CLI outputs vs goldens"
import sys, json, csv, numpy as np
d, g = sys.argv[1], sys.argv[2]
err = json.load(open(f"{g}/errors.json"))
for k in ("head_dla", "mover_attn", "mover_dla", "loss", "induction_scores", "eigenvals_resid", "eigenvals_vocab"):
    a, b = np.load(f"{d}/{k}.npy"), np.load(f"{g}/{k}.npy")
    tol = 4 * err[k]["max_abs_err"] + 1e-4 * np.abs(b).max() + 1e-7   # see tests/test_scan_golden.c
    assert np.abs(a - b).max() <= tol, (k, np.abs(a - b).max(), tol)
for k in ("num_copies", "induction_mask"):
    assert (np.load(f"{d}/{k}.npy") == np.load(f"{g}/{k}.npy")).all(), k
ties = json.load(open(f"{g}/ties.json"))
c, r = np.load(f"{d}/frac_copy_argmax_count.npy"), np.load(f"{g}/frac_copy_argmax_count.npy")
slack = np.array(ties["fragile_rows"]) + np.array(ties["tied_max_rows"])
assert (np.abs(c - r) <= slack).all(), (c, r)
mine = [r[0] for r in csv.reader(open(f"{d}/head_table.csv"))]
ref = [r[0] for r in csv.reader(open(f"{g}/head_table.csv"))]
assert mine == ref, (mine, ref)
EOF
done

# ---- a nilpotent OV head (tests/reference/nilpotent_ref.py): Σ|λ| in the head table, the score flagged
# as ill-conditioned ("~" + footnote in the terminal table, manifest); tolerances as test_eig_ill.c
NP=$SRC/tests/fixtures/gpt2-nilpotent-f32; GN=$SRC/tests/golden/gpt2-nilpotent-f32/eigen
if "$HS" scan --model "$NP" --tokens "$SRC/tests/golden/gpt2-tiny-f32/tokens.npy" --prompts 0 --skip induction,frac_copy_argmax \
     --sort none --top 8 --out "$W/nil" >"$W/nil.out" 2>"$W/nil.err"; then
  grep -E '^L0H0 ' "$W/nil.out" | grep -qE '~ +[^ ]+~ ' && grep -q '^~ ill-conditioned' "$W/nil.out" \
    && ! grep -E '^L[01]H[1-3] |^L1H0 ' "$W/nil.out" | grep -q '~' \
    && ok "terminal table marks L0H0's two eigenvalue scores (only those) with ~ and a footnote" \
    || bad "terminal table flags: $(cat "$W/nil.out")"
  "$PY" - "$W/nil" "$GN" <<'EOF' && ok "head table Σ|λ| columns match the torch goldens; manifest flags L0H0" || bad "nilpotent head table / manifest"
import sys, json, csv, numpy as np
d, g = sys.argv[1], sys.argv[2]
err, info = json.load(open(f"{g}/errors.json")), json.load(open(f"{g}/ill_conditioned.json"))
rows = list(csv.DictReader(open(f"{d}/head_table.csv")))
js = {r["label"]: r for r in json.load(open(f"{d}/head_table.json"))}
man = json.load(open(f"{d}/manifest.json"))["eigenvalue_conditioning"]
for k in ("eigenvals_resid", "eigenvals_vocab"):
    ref = np.load(f"{g}/{k}_abs_sum.npy").reshape(-1)
    tol = 4 * err[k + "_abs_sum"]["max_abs_err"] + 1e-4 * np.abs(ref).max() + 1e-7
    for r in rows:
        gi = int(r["L"]) * 4 + int(r["H"])
        assert abs(float(r[k + "_abs_sum"]) - ref[gi]) <= tol, (k, r["label"], r[k + "_abs_sum"], ref[gi])
        assert abs(js[r["label"]][k + "_abs_sum"] - float(r[k + "_abs_sum"])) <= 1e-7 * abs(float(r[k + "_abs_sum"]))
    assert man[k]["ill_conditioned"] == info[k]["ill_conditioned"] == ["L0H0"], man[k]
    assert abs(man[k]["threshold"] - info[k]["threshold"]) <= 1e-4 * info[k]["threshold"], (man[k], info[k])
EOF
else bad "nilpotent scan failed: $(tail -3 "$W/nil.err")"; fi

# ---- bad inputs: clear error, non-zero exit, nothing under a final name
expect_fail() {  # expect_fail NAME PATTERN OUTDIR -- args...
  local name=$1 pat=$2 out=$3; shift 4
  if "$HS" scan "$@" >"$W/o" 2>"$W/e"; then bad "$name: exit 0"; return; fi
  if ! grep -qiE "$pat" "$W/e"; then bad "$name: message '$(cat "$W/e")' lacks /$pat/"; return; fi
  if [ -d "$out" ] && ! no_outputs "$out"; then bad "$name: outputs left in $out: $(ls -A "$out")"; return; fi
  ok "$name: $(head -c 150 "$W/e" | tr '\n' ' ')"
}
"$PY" -c "
import numpy as np
t = np.load('$GT/tokens.npy'); t2 = t.copy(); t2[1, 5] = 512; np.save('$W/big_id.npy', t2)
np.save('$W/long.npy', np.ones((2, 65), dtype=np.int64))
np.save('$W/neg.npy', -t)"
expect_fail "token id >= vocab" "512.*(outside|vocab)" "$W/o1" -- --model "$TINY" --tokens "$W/big_id.npy" --out "$W/o1"
expect_fail "negative token id" "outside" "$W/o1b" -- --model "$TINY" --tokens "$W/neg.npy" --out "$W/o1b"
expect_fail "n_ctx > model maximum (tokens)" "maximum context 64" "$W/o2" -- --model "$TINY" --tokens "$W/long.npy" --out "$W/o2"
expect_fail "--n-ctx > model maximum" "maximum context 64" "$W/o3" -- --model "$TINY" --tokens "$GT/tokens.npy" --n-ctx 100 --out "$W/o3"
expect_fail "text without a tokenizer" "tokenizer" "$W/o4" -- --model "$TINY" --dataset "$SHARED/data/corpus/dev.jsonl" --out "$W/o4"
expect_fail "missing tokens file" "nope.npy" "$W/o5" -- --model "$TINY" --tokens "$W/nope.npy" --out "$W/o5"
expect_fail "missing --model" "model" "$W/o6" -- --tokens "$GT/tokens.npy" --out "$W/o6"
expect_fail "--out under a file" "not a directory|cannot create|not a folder" "$W/o7" -- --model "$TINY" --tokens "$GT/tokens.npy" --induction-len 7 --out /etc/hostname/x
mkdir -p "$W/ro"
if chattr +i "$W/ro" 2>/dev/null; then   # immutable: unwritable even for root
  expect_fail "unwritable --out" "not writable|cannot|Permission|Operation not permitted" "$W/ro" -- --model "$TINY" --tokens "$GT/tokens.npy" --out "$W/ro"
  chattr -i "$W/ro"
elif [ "$(id -u)" != 0 ]; then
  chmod 555 "$W/ro"
  expect_fail "unwritable --out" "not writable|Permission" "$W/ro" -- --model "$TINY" --tokens "$GT/tokens.npy" --out "$W/ro"
  chmod 755 "$W/ro"
else echo "# unwritable --out: no chattr and running as root, skipped"; fi
# a failure while publishing (a final name is taken by a folder): everything is rolled back
mkdir -p "$W/o8/head_table.csv"
expect_fail "failure while publishing rolls back" "rename|head_table.csv" "$W/o8" -- --model "$TINY" --tokens "$GT/tokens.npy" --induction-len 7 --out "$W/o8"
# a disk that fills mid-write (a 8 KiB tmpfs), when we may mount one
mkdir -p "$W/full"
if mount -t tmpfs -o size=8k tmpfs "$W/full" 2>/dev/null; then
  expect_fail "disk full mid-write" "No space|write|flush|sync" "$W/full" -- --model "$TINY" --tokens "$GT/tokens.npy" --induction-len 7 --out "$W/full"
  umount "$W/full"
else echo "# disk-full case: cannot mount a tmpfs here, skipped"; fi
# interrupted: SIGINT while scanning. Whatever the timing, either the complete set exists or nothing.
"$PY" -c "
import numpy as np
t = np.load('$SRC/tests/golden/neox-vocab-f16/tokens.npy'); np.save('$W/many.npy', np.tile(t, (400, 1)))"
"$HS" scan --model "$SRC/tests/fixtures/neox-vocab-f16" --tokens "$W/many.npy" --prompts 0 --batch 8 --top 0 --out "$W/o9" >/dev/null 2>"$W/e9" &
pid=$!; sleep 0.7; kill -INT $pid 2>/dev/null; wait $pid; rc=$?
if [ $rc -ne 0 ]; then
  no_outputs "$W/o9" && ok "interrupted scan (rc $rc) left no outputs" || bad "interrupted scan left files: $(ls -A "$W/o9")"
else
  [ -f "$W/o9/head_table.csv" ] && [ -f "$W/o9/manifest.json" ] && ok "scan finished before the signal: complete outputs" || bad "rc 0 without outputs"
fi
"$HS" scan --help | grep -q -- "--induction-tokens" && ok "--help" || bad "--help"
"$HS" scan --model "$TINY" --tokens "$GT/tokens.npy" --skip bogus --out "$W/o10" >/dev/null 2>&1; [ $? -eq 2 ] && ok "bad --skip is a usage error" || bad "--skip bogus"
exit $fail

#!/bin/bash
# cli_llama.sh — the Llama family through the command line: `headscan scan` on Llama-, GQA-
# and Qwen2-shaped checkpoints (F32 and BF16) against metrics_ref.py's head tables; BF16 and an
# F32 file holding the same values give byte-identical outputs; `headscan prompt` / `run --text`
# with the Llama-3 and Qwen2 tokenizers (BOS <|begin_of_text|> for Llama-3, none for Qwen2);
# `info`; config values headscan does not implement are refused naming the field.
# usage: bash cli_llama.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
HS=$1; SRC=$2; SHARED=$3
PY=/usr/bin/python3
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fail=0; n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
bad() { n=$((n+1)); fail=1; echo "FAIL $n - $1"; }
FX=$SRC/tests/fixtures; GD=$SRC/tests/golden

# ---- scan: the reference's rows and induction tokens; the head table within tolerance
# (4 x the reference's float32 error per array + 1e-4 of its largest value, as test_scan_golden)
for fx in llama-tiny-f32 qwen2-tiny-f32 llama3-tied-f32; do
  if "$HS" scan --model "$FX/$fx" --tokens "$GD/$fx/scan/tokens.npy" --induction-tokens "$GD/$fx/scan/ind_tokens.npy" \
       --batch 2 --top 3 --out "$W/$fx" >"$W/$fx.out" 2>"$W/$fx.err"; then ok "$fx: scan exits 0"
  else bad "$fx: scan failed: $(cat "$W/$fx.err")"; continue; fi
  "$PY" - "$W/$fx" "$GD/$fx/scan" <<'EOF' && ok "$fx: head table = reference's (values and order)" || bad "$fx: head table differs"
import sys, csv, json, numpy as np
d, g = sys.argv[1], sys.argv[2]
ours = list(csv.reader(open(f"{d}/head_table.csv"))); ref = list(csv.reader(open(f"{g}/head_table.csv")))
assert len(ours) == len(ref) and set(ref[0]) <= set(ours[0]), (ours[0], ref[0])   # ours may have more columns
assert [r[0] for r in ours] == [r[0] for r in ref], "order"
col = [ours[0].index(k) for k in ref[0][3:]]   # the reference's metric columns, by name
a = np.array([[float(r[c]) for c in col] for r in ours[1:]]); b = np.array([[float(x) for x in r[3:]] for r in ref[1:]])
scale = np.nanmax(np.abs(b), axis=0)
assert np.array_equal(np.isnan(a), np.isnan(b))
assert (np.nan_to_num(np.abs(a - b)) <= 1e-4 * scale + 1e-5).all(), np.nanmax(np.abs(a - b) / (scale + 1e-12))
assert (np.load(f"{d}/ind_tokens.npy") == np.load(f"{g}/ind_tokens.npy")).all()
EOF
done
grep -q "^top 3 heads" "$W/llama-tiny-f32.out" && ok "top heads printed" || bad "no top-heads table"

# ---- BF16 kept as stored = an F32 file holding the same values, byte for byte
for fx in llama-tiny-bf16 llama-tiny-bf16-as-f32; do
  "$HS" scan --model "$FX/$fx" --tokens "$GD/llama-tiny-f32/scan/tokens.npy" --induction-tokens "$GD/llama-tiny-f32/scan/ind_tokens.npy" \
     --batch 3 --top 0 --out "$W/$fx" >/dev/null 2>"$W/$fx.err" || bad "$fx: scan failed: $(cat "$W/$fx.err")"
done
same=1
for f in head_table.csv head_dla.npy mover_dla.npy loss.npy induction_scores.npy eigenvals_vocab.npy frac_copy_argmax.npy; do
  cmp -s "$W/llama-tiny-bf16/$f" "$W/llama-tiny-bf16-as-f32/$f" || same=0
done
[ $same = 1 ] && ok "BF16 scan outputs identical to the F32 file of the same values" || bad "BF16 and F32-of-same-values scans differ"
"$HS" info --model "$FX/llama-tiny-bf16" | grep -q "BF16 (weights kept as stored" && ok "info: BF16 kept as stored" || bad "info dtype line"
"$HS" info --model "$FX/qwen2-tiny-f32" | grep -q "6 x d_head 8, 2 key/value groups" && ok "info: GQA groups" || bad "info GQA line"

# ---- text: Llama-3 (BF16, tied, GQA, 128256 rows) with its tokenizer; an F32 copy of it
L3TOK=$SHARED/data/tokenizers/llama3.tokenizer.json
"$PY" - "$FX/llama-vocab-bf16" "$W/l3f32" <<'EOF' || bad "making the F32 copy"
import sys, os, json, struct, shutil, numpy as np
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
raw = open(f"{src}/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]; hdr = json.loads(raw[8:8 + n]); body = raw[8 + n:]
out, blobs, off = {}, [], 0
for k, v in hdr.items():
    if k == "__metadata__": continue
    a, b = v["data_offsets"]
    x = np.frombuffer(body[a:b], dtype=np.uint16).astype(np.uint32) << 16 if v["dtype"] == "BF16" else np.frombuffer(body[a:b], np.float32)
    x = x.view(np.float32).tobytes() if v["dtype"] == "BF16" else x.tobytes()
    out[k] = {"dtype": "F32", "shape": v["shape"], "data_offsets": [off, off + len(x)]}; blobs.append(x); off += len(x)
h = json.dumps(out).encode(); h += b" " * (-len(h) % 8)
open(f"{dst}/model.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
cfg = json.load(open(f"{src}/config.json")); cfg["torch_dtype"] = "float32"; json.dump(cfg, open(f"{dst}/config.json", "w"))
EOF
P="When John and Mary went to the store, John gave the bag to"
for m in "$FX/llama-vocab-bf16" "$W/l3f32"; do
  "$HS" prompt --model "$m" --tokenizer "$L3TOK" "$P" " Mary" --top 5 >"$W/prompt.$(basename "$m")" 2>"$W/prompt.err" \
    || bad "prompt on $(basename "$m"): $(cat "$W/prompt.err")"
done
grep -q "Tokenized prompt: \['<|begin_of_text|>', 'When'" "$W/prompt.llama-vocab-bf16" && ok "prompt: Llama-3 BOS <|begin_of_text|> first" \
  || bad "prompt BOS: $(head -2 "$W/prompt.llama-vocab-bf16")"
# TL test_prompt's printout from the torch reference (llama_ref.py, default --top 10)
"$HS" prompt --model "$FX/llama-vocab-bf16" --tokenizer "$L3TOK" "$P" " Mary" >"$W/tp.txt" 2>&1
diff "$W/tp.txt" "$GD/llama-vocab-bf16/test_prompt.txt" >"$W/tp.diff" && ok "prompt == reference test_prompt (Llama-3, BF16)" \
  || bad "prompt differs from the golden: $(cat "$W/tp.diff")"
cmp -s "$W/prompt.llama-vocab-bf16" "$W/prompt.l3f32" && ok "prompt: BF16 and F32 copies print the same" || bad "prompt BF16 vs F32 differ"
"$HS" run --model "$W/l3f32" --tokenizer "$L3TOK" --text "$P" --top 1 >"$W/run.out" 2>&1 \
  && grep -q "^tokens run (15): 128000 " "$W/run.out" && ok "run --text: ids printed, BOS 128000 first" || bad "run --text: $(head -3 "$W/run.out")"

# ---- Qwen2: no BOS (TL default_prepend_bos = False). qwen2-tiny-f32's weights with its
# embedding padded to the Qwen2 tokenizer's 151936 rows (tied), so text can run.
"$PY" - "$FX/qwen2-tiny-f32" "$W/qwen2v" <<'EOF' || bad "making the Qwen2-vocabulary model"
import sys, os, json, struct, numpy as np
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
raw = open(f"{src}/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]; hdr = json.loads(raw[8:8 + n]); body = raw[8 + n:]
V = 151936; out, blobs, off = {}, [], 0
rng = np.random.default_rng(7)
for k, v in hdr.items():
    if k == "__metadata__": continue
    a, b = v["data_offsets"]; x = np.frombuffer(body[a:b], np.float32).reshape(v["shape"])
    if k == "model.embed_tokens.weight":
        x = np.concatenate([x, rng.standard_normal((V - x.shape[0], x.shape[1])).astype(np.float32)])
    x = np.ascontiguousarray(x).tobytes()
    out[k] = {"dtype": "F32", "shape": [V, v["shape"][1]] if k == "model.embed_tokens.weight" else v["shape"], "data_offsets": [off, off + len(x)]}
    blobs.append(x); off += len(x)
h = json.dumps(out).encode(); h += b" " * (-len(h) % 8)
open(f"{dst}/model.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
cfg = json.load(open(f"{src}/config.json")); cfg["vocab_size"] = V; cfg["bos_token_id"] = 151643; cfg["eos_token_id"] = 151643
json.dump(cfg, open(f"{dst}/config.json", "w"))
EOF
QTOK=$SHARED/data/tokenizers/qwen2.tokenizer.json
"$HS" prompt --model "$W/qwen2v" --tokenizer "$QTOK" "$P" " Mary" --top 3 >"$W/qprompt" 2>"$W/qprompt.err" \
  && grep -q "Tokenized prompt: \['When'" "$W/qprompt" && ok "prompt: Qwen2 without BOS" || bad "qwen2 prompt: $(head -2 "$W/qprompt") $(cat "$W/qprompt.err")"
"$HS" run --model "$W/qwen2v" --tokenizer "$QTOK" --text "$P" --top 1 >"$W/qrun" 2>&1 \
  && grep -q "^tokens run (14): 4498 " "$W/qrun" && ok "run --text: Qwen2 ids, no BOS" || bad "qwen2 run --text: $(head -3 "$W/qrun")"

# ---- refused config values name the field
cp "$FX/llama-tiny-f32/model.safetensors" "$W/" 2>/dev/null
refuse() {   # refuse LABEL NEEDLE PY-EDIT
  mkdir -p "$W/r"; cp "$FX/llama-tiny-f32/model.safetensors" "$W/r/"
  "$PY" -c "import json,sys; c=json.load(open('$FX/llama-tiny-f32/config.json')); $3; json.dump(c, open('$W/r/config.json','w'))"
  if "$HS" info --model "$W/r" >"$W/r.out" 2>&1; then bad "$1: accepted"
  else grep -q -- "$2" "$W/r.out" && ok "$1 refused: $(grep -o -- "$2" "$W/r.out" | head -1)" || bad "$1: message $(cat "$W/r.out")"; fi
}
refuse "unknown rope type" 'rope_scaling.rope_type "yarn"' 'c["rope_scaling"]={"rope_type":"yarn","factor":4.0}'
refuse "v5 rope_parameters type" 'rope_parameters.rope_type "longrope"' 'c["rope_parameters"]={"rope_type":"longrope","rope_theta":1e4,"factor":2.0}'
refuse "hidden_act" "hidden_act 'gelu'" 'c["hidden_act"]="gelu"'
refuse "Qwen2 sliding window" "use_sliding_window" 'c["model_type"]="qwen2"; c["use_sliding_window"]=True; c["sliding_window"]=8'
refuse "Gemma" "Gemma is a different family" 'c["model_type"]="gemma"'
refuse "llama3 rope without its fields" "low_freq_factor" 'c["rope_scaling"]={"rope_type":"llama3","factor":8.0}'
refuse "GQA heads" "num_key_value_heads 3" 'c["num_key_value_heads"]=3'
refuse "quantized" "quantization_config" 'c["quantization_config"]={"quant_method":"gptq"}'

echo "cli_llama: $n checks"
exit $fail

#!/usr/bin/env bash
# cli_tokenize.sh — `headscan tokenize` end to end, against the HF tokenizers oracle's outputs:
# dev.tokens.jsonl (shared), the spec's vectors, and the hashes in tests/tokenizer/golden/hashes.txt
# (per-id to_str_tokens strings of both tokenizers; the 1 MB single-line documents of
# gen_adversarial.py --large). Also bad input: invalid UTF-8, bad JSONL, bad options.
# usage: bash cli_tokenize.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -uo pipefail
hs=$1 src=$2 shared=$3
tokdir=$shared/data/tokenizers
neox=$tokdir/gpt-neox-20b.tokenizer.json
gpt2=$tokdir/gpt2.tokenizer.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0
ok() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
expect_eq() { if [ "$1" == "$2" ]; then ok; else fail "$3: got [$1] want [$2]"; fi; }
expect_rc() { if [ "$1" -eq "$2" ]; then ok; else fail "$3: exit code $1, want $2"; fi; }
expect_grep() { if grep -q -- "$1" "$2"; then ok; else fail "$3: '$1' not in: $(cat "$2")"; fi; }
golden_hash() { awk -v k="$1" -v t="$2" '$1 == k && $2 == t { print $NF }' "$src/tests/tokenizer/golden/hashes.txt"; }

"$hs" tokenize --help > "$tmp/help"; expect_rc $? 0 "--help"
expect_grep "--prepend-bos" "$tmp/help" "--help lists options"

# spec vectors (shared/spec/tokenizer.md §2, tokenizers 0.22 oracle)
out=$("$hs" tokenize --tokenizer "$neox" --text "When John and Mary went to the store, John gave the bag to his friend")
expect_eq "$out" "[3039,2516,285,6393,2427,281,253,4657,13,2516,3534,253,7351,281,521,3331]" "--text"
out=$("$hs" tokenize --tokenizer "$neox" --text "Hello world" --prepend-bos)
expect_eq "$out" "[0,12092,1533]" "--prepend-bos"
out=$("$hs" tokenize --tokenizer "$gpt2" --text "Hello world" --prepend-bos)
expect_eq "$out" "[50256,15496,995]" "--prepend-bos gpt2 (BOS = <|endoftext|> = 50256)"
out=$("$hs" tokenize --tokenizer "$neox" --text $'\t\tfoo  \n' --str-tokens)
expect_eq "$out" '{"ids":[186,186,12110,50276,187],"str_tokens":["\t","\t","foo","  ","\n"]}' "--str-tokens"
out=$("$hs" tokenize --tokenizer "$neox" --text $'\t\tfoo  \n' --display)
expect_eq "$out" '{"ids":[186,186,12110,50276,187],"str_tokens":["→","→","foo","··","↩\n"]}' "--display"
out=$("$hs" tokenize --tokenizer "$neox" --decode 3039,2516,0,50276)
expect_eq "$out" "When John<|endoftext|>  " "--decode"
out=$("$hs" tokenize --tokenizer "$neox" --decode 220,35973 --str-tokens)
expect_eq "$out" '{"ids":[220,35973],"str_tokens":["�","��"]}' "--decode --str-tokens (byte fragments)"

# --model DIR, --file
mkdir -p "$tmp/model" && ln -s "$neox" "$tmp/model/tokenizer.json"
out=$("$hs" tokenize --model "$tmp/model" --text "a   b")
expect_eq "$out" "[66,50275,67]" "--model"
printf 'x<|endof\nline two\n' > "$tmp/doc.txt"
out=$("$hs" tokenize --tokenizer "$neox" --file "$tmp/doc.txt")
want=$("$hs" tokenize --tokenizer "$neox" --text $'x<|endof\nline two\n')
expect_eq "$out" "$want" "--file = --text of the same content"

# the dev corpus, both tokenizers, 1 and 2 threads, vs the oracle's ids
for t in neox gpt2; do
  f=$neox; [ $t = gpt2 ] && f=$gpt2
  "$hs" tokenize --tokenizer "$f" --jsonl "$shared/data/corpus/dev.jsonl" --threads 1 > "$tmp/dev.$t"; expect_rc $? 0 "dev $t"
  "$hs" tokenize --tokenizer "$f" --jsonl "$shared/data/corpus/dev.jsonl" --threads 2 > "$tmp/dev2.$t"
  cmp -s "$tmp/dev.$t" "$tmp/dev2.$t" && ok || fail "dev $t: 2 threads differ from 1"
  python3 - "$shared/data/corpus/dev.tokens.jsonl" "$tmp/dev.$t" "$t" <<'EOF' && ok || fail "dev $t differs from dev.tokens.jsonl"
import json, sys
ref = [json.loads(l)[sys.argv[3]] for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
bad = [i for i, (a, b) in enumerate(zip(ref, got)) if a != b]
if len(ref) != len(got) or bad:
    print(f"{len(got)} lines vs {len(ref)}; differing docs {bad[:10]}", file=sys.stderr)
    sys.exit(1)
EOF
done

# per-id strings (to_str_tokens of every id) and the 1 MB documents, as hashes of the oracle's output
python3 "$src/tests/tokenizer/gen_adversarial.py" --large > "$tmp/large.jsonl"
for t in gpt-neox-20b gpt2; do
  f=$tokdir/$t.tokenizer.json
  size=$(awk -v t="$t" '$1 == "str-tokens" && $2 == t { print $3 }' "$src/tests/tokenizer/golden/hashes.txt")
  seq -s, 0 $((size - 1)) > "$tmp/ids"
  h=$("$hs" tokenize --tokenizer "$f" --decode "@$tmp/ids" --str-tokens --lines | sha256sum | cut -d' ' -f1)
  expect_eq "$h" "$(golden_hash str-tokens "$t")" "$t: per-id strings"
  h=$("$hs" tokenize --tokenizer "$f" --jsonl - < "$tmp/large.jsonl" | sha256sum | cut -d' ' -f1)
  expect_eq "$h" "$(golden_hash large "$t")" "$t: 1 MB single-line documents"
done

# Llama-family files: shared expected-ids.jsonl through the CLI, with and without --add-special-tokens
python3 - "$hs" "$tokdir" <<'EOF2' && ok || fail "expected-ids.jsonl through headscan tokenize"
import json, subprocess, sys
hs, tokdir = sys.argv[1], sys.argv[2]
groups = {}
for line in open(f"{tokdir}/expected-ids.jsonl"):
    r = json.loads(line)
    groups.setdefault((r["tokenizer"], r["add_special_tokens"]), []).append(r)
bad = 0
for (tok, special), rows in groups.items():
    args = [hs, "tokenize", "--tokenizer", f"{tokdir}/{tok}", "--jsonl", "-"] + (["--add-special-tokens"] if special else [])
    out = subprocess.run(args, input="".join(json.dumps({"text": r["text"]}) + "\n" for r in rows).encode(),
                         capture_output=True, check=True).stdout.decode().splitlines()
    bad += len(out) != len(rows) or sum(json.loads(o) != r["ids"] for o, r in zip(out, rows))
sys.exit(1 if bad or len(groups) < 8 else 0)
EOF2
out=$("$hs" tokenize --tokenizer "$tokdir/llama2.tokenizer.json" --text "Hello" --add-special-tokens)
want=$("$hs" tokenize --tokenizer "$tokdir/llama2.tokenizer.json" --text "Hello" --prepend-bos)
expect_eq "$out" "$want" "llama2: --add-special-tokens = --prepend-bos (<s> = 1)"
out=$("$hs" tokenize --tokenizer "$tokdir/qwen2.tokenizer.json" --text "Hello" --add-special-tokens)
want=$("$hs" tokenize --tokenizer "$tokdir/qwen2.tokenizer.json" --text "Hello")
expect_eq "$out" "$want" "qwen2: --add-special-tokens adds nothing"
"$hs" tokenize --tokenizer "$neox" --text x --prepend-bos --add-special-tokens > /dev/null 2>&1
expect_rc $? 2 "--prepend-bos with --add-special-tokens"

# headscan tokens (TL tokenize_and_concatenate) refuses a BOS-adding tokenizer without the model's config (its EOS is TL's pad)
mkdir -p "$tmp/llama" && ln -s "$tokdir/llama2.tokenizer.json" "$tmp/llama/tokenizer.json"
"$hs" tokens --dataset "$shared/data/corpus/dev.jsonl" --model "$tmp/llama" --out "$tmp/llama.npy" > /dev/null 2> "$tmp/err"
expect_rc $? 1 "tokens with a Llama-2 tokenizer"
expect_grep "adds a BOS" "$tmp/err" "tokens refusal message"
[ -e "$tmp/llama.npy" ] && fail "tokens wrote a matrix" || ok

# JSONL details: blank lines skipped, --field, NUL kept
printf '{"t":"Hello world"}\n\n   \n{"t":"a\\u0000b"}\n' > "$tmp/f.jsonl"
out=$("$hs" tokenize --tokenizer "$neox" --jsonl "$tmp/f.jsonl" --field t | tr '\n' ' ')
expect_eq "$out" "[12092,1533] [66,177,67] " "--field, blank lines, NUL (oracle: a\\u0000b -> [66,177,67])"

# invalid UTF-8: strict errors name the line and byte offset; replace = Python errors="replace"
printf 'ok line\nsecond\nab\xffcd\n' > "$tmp/bad.txt"
"$hs" tokenize --tokenizer "$neox" --file "$tmp/bad.txt" > /dev/null 2> "$tmp/err"; expect_rc $? 1 "invalid UTF-8 --file"
expect_grep "line 3, byte offset 2" "$tmp/err" "invalid UTF-8 message"
out=$("$hs" tokenize --tokenizer "$neox" --file "$tmp/bad.txt" --utf8-errors replace)
want=$("$hs" tokenize --tokenizer "$neox" --text $'ok line\nsecond\nab\xef\xbf\xbdcd\n')
expect_eq "$out" "$want" "--utf8-errors replace"
printf '{"text":"fine"}\n{"text":"b\xe2\x82"}\n' > "$tmp/bad.jsonl"
"$hs" tokenize --tokenizer "$neox" --jsonl "$tmp/bad.jsonl" > "$tmp/out" 2> "$tmp/err"; expect_rc $? 1 "invalid UTF-8 --jsonl"
expect_grep "line 2, byte offset 10" "$tmp/err" "invalid UTF-8 JSONL message"
[ -s "$tmp/out" ] && fail "nothing printed on error" || ok
out=$("$hs" tokenize --tokenizer "$neox" --jsonl "$tmp/bad.jsonl" --utf8-errors replace | tail -1)
want=$("$hs" tokenize --tokenizer "$neox" --text $'b\xef\xbf\xbd')
expect_eq "$out" "$want" "JSONL --utf8-errors replace"

# bad JSONL and bad options
printf '{"text":"fine"}\n{"text": 3}\n' > "$tmp/nofield.jsonl"
"$hs" tokenize --tokenizer "$neox" --jsonl "$tmp/nofield.jsonl" > /dev/null 2> "$tmp/err"; expect_rc $? 1 "non-string field"
expect_grep "nofield.jsonl:2: no string field \"text\"" "$tmp/err" "field message"
printf '{"text":"fine"\n' > "$tmp/broken.jsonl"
"$hs" tokenize --tokenizer "$neox" --jsonl "$tmp/broken.jsonl" > /dev/null 2> "$tmp/err"; expect_rc $? 1 "bad JSON"
expect_grep "broken.jsonl:1: bad JSON" "$tmp/err" "bad JSON message"
"$hs" tokenize --tokenizer "$tmp/none.json" --text x > /dev/null 2> "$tmp/err"; expect_rc $? 1 "missing tokenizer"
expect_grep "none.json" "$tmp/err" "missing tokenizer names the file"
"$hs" tokenize --text x > /dev/null 2>&1; expect_rc $? 2 "no tokenizer"
"$hs" tokenize --tokenizer "$neox" --text x --file y > /dev/null 2>&1; expect_rc $? 2 "two inputs"
"$hs" tokenize --tokenizer "$neox" --decode 1,x > /dev/null 2>&1; expect_rc $? 2 "bad --decode"
"$hs" tokenize --tokenizer "$neox" --text x --utf8-errors maybe > /dev/null 2>&1; expect_rc $? 2 "bad --utf8-errors"
echo "cli_tokenize: $checks checks, $fails failed"
[ "$fails" -eq 0 ]

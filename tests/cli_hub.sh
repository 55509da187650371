#!/usr/bin/env bash
# cli_hub.sh — `headscan fetch` / `headscan cache` against a fake HuggingFace hub
# (tests/fakehub.py on 127.0.0.1) and against caches laid out by Python the way
# huggingface_hub lays them out. Usage: bash cli_hub.sh <headscan> <source-dir> <shared-dir>
set -uo pipefail
HS=$(realpath "$1")
SRC=$2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
T=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE HUGGINGFACE_HUB_CACHE HF_TOKEN_PATH
export HF_HOME=$T/hfhome   # no stray token file from the machine
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

$PY "$SRC/tests/hubtool.py" make-root "$T/root" || { echo "cannot build the fake repos"; exit 1; }
commit() { $PY "$SRC/tests/hubtool.py" commit "$@"; }
check() { $PY "$SRC/tests/hubtool.py" check "$@" >/dev/null; }

# start_hub NAME [fakehub options...]: sets PORT and LOG (one line per request)
start_hub() {
    local name=$1; shift
    LOG=$T/$name.log
    : >"$LOG"
    rm -f "$T/$name.port"
    $PY "$SRC/tests/fakehub.py" --root "$T/root" --port-file "$T/$name.port" --log "$LOG" --timeout 300 "$@" &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/$name.port")
    export HF_ENDPOINT=http://127.0.0.1:$PORT
}
nreq() { wc -l <"$LOG" | tr -d ' '; }

# ---------------------------------------------------------------- 1. fetch a model by alias
start_hub main --cdn-host localhost --gated test/gated --token s3cr3t-t0ken --rename old/pythia=EleutherAI/pythia-70m
export HF_HUB_CACHE=$T/cache
C=$T/cache
M=models--EleutherAI--pythia-70m
SHA=$(commit models EleutherAI/pythia-70m main)
out=$("$HS" fetch pythia-70m 2>"$T/err") || fail "fetch pythia-70m: $(cat "$T/err")"
[ "$out" = "$C/$M/snapshots/$SHA" ] && ok "fetch prints the snapshot folder" || fail "fetch printed '$out'"
for f in config.json tokenizer.json tokenizer_config.json model.safetensors; do
    check "$C" models EleutherAI/pythia-70m main "$f" "$T/root/models/EleutherAI/pythia-70m/main/$f" \
        && ok "cache layout of $f readable the huggingface_hub way" || fail "cache layout of $f"
done
[ ! -e "$C/$M/snapshots/$SHA/pytorch_model.bin" ] && [ ! -e "$C/$M/snapshots/$SHA/README.md" ] \
    && ok "only the needed files fetched" || fail "fetched pytorch_model.bin or README.md"
grep -q "model.safetensors" "$T/err" && ok "progress reported" || fail "no progress lines: $(cat "$T/err")"

# 2. again, online: one API request, nothing downloaded
n0=$(nreq)
"$HS" fetch EleutherAI/pythia-70m >/dev/null 2>"$T/err" || fail "second fetch: $(cat "$T/err")"
[ $(( $(nreq) - n0 )) -eq 1 ] && ok "cached files are not requested again" || fail "second fetch made $(( $(nreq) - n0 )) requests"

# 3. offline (env and flag): zero requests
n0=$(nreq)
out=$(HF_HUB_OFFLINE=1 "$HS" fetch pythia-70m 2>"$T/err") || fail "offline fetch: $(cat "$T/err")"
[ "$out" = "$C/$M/snapshots/$SHA" ] || fail "offline fetch printed '$out'"
out=$("$HS" fetch --offline EleutherAI/pythia-70m 2>"$T/err") || fail "--offline fetch: $(cat "$T/err")"
[ "$(nreq)" -eq "$n0" ] && ok "offline makes no request" || fail "offline made requests"

# 4. offline and not cached: clear error
if HF_HUB_OFFLINE=1 "$HS" fetch pythia-160m 2>"$T/err" >/dev/null; then fail "offline fetch of uncached model succeeded"
else grep -q "offline" "$T/err" && grep -q "not in the cache" "$T/err" && ok "offline miss: $(cat "$T/err")" \
    || fail "offline miss message: $(cat "$T/err")"; fi
[ "$(nreq)" -eq "$n0" ] || fail "offline miss made requests"

# 5. a revision (Pythia checkpoint branch)
SHA2=$(commit models EleutherAI/pythia-70m step143000)
out=$("$HS" fetch pythia-70m --revision step143000 2>"$T/err") || fail "fetch --revision: $(cat "$T/err")"
[ "$out" = "$C/$M/snapshots/$SHA2" ] && check "$C" models EleutherAI/pythia-70m step143000 config.json \
    "$T/root/models/EleutherAI/pythia-70m/step143000/config.json" && ok "revision step143000" \
    || fail "revision step143000: $out"
[ "$(cat "$C/$M/refs/main")" = "$SHA" ] || fail "refs/main changed"

# 6. a commit revision fully cached: no request even online
n0=$(nreq)
out=$("$HS" fetch pythia-70m --revision "$SHA2" 2>"$T/err") || fail "fetch by commit: $(cat "$T/err")"
[ "$out" = "$C/$M/snapshots/$SHA2" ] && [ "$(nreq)" -eq "$n0" ] && ok "cached commit needs no request" \
    || fail "fetch by commit: '$out', $(( $(nreq) - n0 )) requests"

# 7. gated repo: 401 without token, 403 with a wrong one, ok with HF_TOKEN or the token file
if "$HS" fetch test/gated >"$T/out" 2>"$T/err"; then fail "gated repo without token succeeded"
else grep -q "401" "$T/err" && grep -q "HF_TOKEN" "$T/err" && ok "gated without token: 401 + HF_TOKEN hint" \
    || fail "gated message: $(cat "$T/err")"; fi
if HF_TOKEN=wrong-token "$HS" fetch test/gated >"$T/out" 2>"$T/err"; then fail "gated repo with wrong token succeeded"
else grep -q "403" "$T/err" && ! grep -q "wrong-token" "$T/err" "$T/out" && ok "gated wrong token: 403, token not printed" \
    || fail "gated 403 message: $(cat "$T/err")"; fi
HF_TOKEN=s3cr3t-t0ken "$HS" fetch test/gated >"$T/out" 2>"$T/err" && ok "gated with HF_TOKEN" || fail "gated with token: $(cat "$T/err")"
! grep -q "s3cr3t" "$T/out" "$T/err" || fail "token printed"
grep "/cdn/" "$LOG" | grep -q " token " && fail "token sent to the CDN" || true
rm -rf "$C/models--test--gated"
mkdir -p "$HF_HOME" && printf 's3cr3t-t0ken\n' >"$HF_HOME/token"
"$HS" fetch test/gated >"$T/out" 2>"$T/err" && ok "gated with the token file" || fail "gated with token file: $(cat "$T/err")"
rm -f "$HF_HOME/token"

# 8. 404s name what is missing
if "$HS" fetch pythia-70m --file nope.json 2>"$T/err" >/dev/null; then fail "missing file succeeded"
else grep -q "nope.json" "$T/err" && grep -q "EntryNotFound" "$T/err" && ok "404 file: $(cat "$T/err")" || fail "404 file: $(cat "$T/err")"; fi
[ -f "$C/$M/.no_exist/$SHA/nope.json" ] && ok "absence recorded in .no_exist/<commit>/ as huggingface_hub does" || fail "no .no_exist marker"
HF_HUB_OFFLINE=1 "$HS" fetch pythia-70m --file nope.json 2>"$T/err" >/dev/null
grep -q "does not exist in that commit" "$T/err" && ok "offline: recorded absence reported" || fail "offline .no_exist: $(cat "$T/err")"
if "$HS" fetch nobody/nothing 2>"$T/err" >/dev/null; then fail "missing repo succeeded"
else grep -q "nobody/nothing" "$T/err" && grep -q "RepoNotFound" "$T/err" && ok "404 repo" || fail "404 repo: $(cat "$T/err")"; fi
if "$HS" fetch pythia-70m --revision step1 2>"$T/err" >/dev/null; then fail "missing revision succeeded"
else grep -q "step1" "$T/err" && grep -q "RevisionNotFound" "$T/err" && ok "404 revision" || fail "404 revision: $(cat "$T/err")"; fi
if "$HS" fetch 'bad--name/x' 2>"$T/err" >/dev/null; then fail "malformed name accepted"; else ok "malformed name refused"; fi

# 9. only pytorch_model.bin; sharded safetensors
if "$HS" fetch test/binonly 2>"$T/err" >/dev/null; then fail "bin-only model succeeded"
else grep -q "pytorch_model.bin" "$T/err" && ok "bin-only: $(cat "$T/err")" || fail "bin-only message: $(cat "$T/err")"; fi
out=$("$HS" fetch test/sharded 2>"$T/err") || fail "sharded: $(cat "$T/err")"
for f in model.safetensors.index.json model-00001-of-00002.safetensors model-00002-of-00002.safetensors; do
    check "$C" models test/sharded main "$f" "$T/root/models/test/sharded/main/$f" || fail "sharded $f"
done
ok "sharded checkpoint"
SSHA=$(commit models test/sharded main)
"$HS" fetch --offline test/sharded >/dev/null 2>"$T/err" || fail "sharded offline: $(cat "$T/err")"
mv "$C/models--test--sharded/snapshots/$SSHA/model-00002-of-00002.safetensors" "$T/shard2"
if "$HS" fetch --offline test/sharded 2>"$T/err" >/dev/null; then fail "offline with a missing shard succeeded"
else grep -q "model-00002-of-00002.safetensors" "$T/err" && ok "offline missing shard named" || fail "missing shard: $(cat "$T/err")"; fi
"$HS" fetch test/sharded >/dev/null 2>"$T/err" && [ -L "$C/models--test--sharded/snapshots/$SSHA/model-00002-of-00002.safetensors" ] \
    && ok "missing shard re-linked online from its blob" || fail "sharded repair: $(cat "$T/err")"

# 9b. a real (tiny) checkpoint fetched from the hub loads in headscan like its source folder
mkdir -p "$T/root/models/tiny/neox-sharded/main"
cp "$SRC"/tests/fixtures/neox-tiny-sharded/* "$T/root/models/tiny/neox-sharded/main/"
out=$("$HS" fetch tiny/neox-sharded 2>"$T/err") || fail "tiny checkpoint: $(cat "$T/err")"
"$HS" info --model "$out" 2>&1 | tail -n +2 >"$T/info.hub"
"$HS" info --model "$SRC/tests/fixtures/neox-tiny-sharded" 2>&1 | tail -n +2 >"$T/info.src"
grep -q "parameters" "$T/info.hub" && cmp -s "$T/info.hub" "$T/info.src" \
    && ok "fetched sharded checkpoint loads like its source" || fail "fetched checkpoint: $(cat "$T/info.hub")"

# 10. renamed repo: relative redirect followed
out=$("$HS" fetch old/pythia --file config.json 2>"$T/err") && cmp -s "$out" "$T/root/models/EleutherAI/pythia-70m/main/config.json" \
    && ok "relative redirect (renamed repo)" || fail "renamed repo: $out $(cat "$T/err")"

# 11. datasets: main's parquet; train split only; refs/convert/parquet
D=datasets--NeelNanda--pile-10k
DSHA=$(commit datasets NeelNanda/pile-10k main)
PQ=data/train-00000-of-00001-4746b8785c874cc7.parquet
out=$("$HS" fetch --dataset NeelNanda/pile-10k 2>"$T/err") || fail "dataset: $(cat "$T/err")"
[ "$out" = "$C/$D/snapshots/$DSHA/$PQ" ] && check "$C" datasets NeelNanda/pile-10k main "$PQ" \
    "$T/root/datasets/NeelNanda/pile-10k/main/$PQ" && ok "dataset parquet" || fail "dataset: '$out'"
[ ! -e "$C/$D/snapshots/$DSHA/README.md" ] || fail "dataset README fetched"
out=$("$HS" fetch --dataset test/splits 2>"$T/err") || fail "splits: $(cat "$T/err")"
[ "$(echo "$out" | xargs -n1 basename | tr '\n' ' ')" = "train-00000-of-00002.parquet train-00001-of-00002.parquet " ] \
    && ok "train split only, sorted" || fail "splits: $out"
out=$("$HS" fetch --dataset test/converted 2>"$T/err") || fail "converted: $(cat "$T/err")"
CSHA=$(commit datasets test/converted refs/convert/parquet)
[ "$(cat "$C/datasets--test--converted/refs/refs/convert/parquet")" = "$CSHA" ] \
    && [ "$out" = "$C/datasets--test--converted/snapshots/$CSHA/default/train/0000.parquet
$C/datasets--test--converted/snapshots/$CSHA/default/train/0001.parquet" ] \
    && check "$C" datasets test/converted refs/convert/parquet default/train/0001.parquet \
       "$T/root/datasets/test/converted/refs%2Fconvert%2Fparquet/default/train/0001.parquet" \
    && ok "refs/convert/parquet fallback" || fail "converted: $out"
n0=$(nreq)
out=$("$HS" fetch --offline --dataset test/converted 2>"$T/err") && [ "$(echo "$out" | wc -l)" -eq 2 ] \
    && [ "$(nreq)" -eq "$n0" ] && ok "offline dataset via the parquet branch ref" || fail "offline converted: $out $(cat "$T/err")"

# 12. cache ls
"$HS" cache ls >"$T/ls" 2>"$T/err" || fail "cache ls: $(cat "$T/err")"
want=$(( $(stat -c %s "$C/$M"/blobs/* | paste -sd+) ))
grep -q "EleutherAI/pythia-70m" "$T/ls" && grep "EleutherAI/pythia-70m" "$T/ls" | grep -q "main, step143000" \
    && grep -q "NeelNanda/pile-10k" "$T/ls" && ok "cache ls ($want bytes in pythia blobs)" || fail "cache ls: $(cat "$T/ls")"
"$HS" cache ls --cache-dir "$T/empty" >/dev/null || fail "cache ls of a missing cache"
[ "$("$HS" cache dir)" = "$C" ] || fail "cache dir"
[ "$(env -u HF_HUB_CACHE HF_HOME=/x/y "$HS" cache dir)" = "/x/y/hub" ] || fail "cache dir from HF_HOME"
[ "$(env -u HF_HUB_CACHE -u HF_HOME XDG_CACHE_HOME=/q HOME=/h "$HS" cache dir)" = "/q/huggingface/hub" ] || fail "cache dir from XDG"
[ "$(env -u HF_HUB_CACHE -u HF_HOME -u XDG_CACHE_HOME HOME=/h "$HS" cache dir)" = "/h/.cache/huggingface/hub" ] \
    && ok "cache dir precedence" || fail "cache dir default"

# 13. a cache written the huggingface_hub way by Python: used with no request at all
PSHA=0123456789abcdef0123456789abcdef01234567
$PY "$SRC/tests/hubtool.py" populate "$C" models py/model main "$PSHA" "$T/root/models/py/model/main"
n0=$(nreq)
out=$("$HS" fetch --offline py/model 2>"$T/err") && [ "$out" = "$C/models--py--model/snapshots/$PSHA" ] \
    && cmp -s "$out/config.json" "$T/root/models/py/model/main/config.json" \
    && ok "Python-written cache used offline" || fail "python cache offline: $out $(cat "$T/err")"
out=$("$HS" fetch py/model --revision "$PSHA" 2>"$T/err") && [ "$out" = "$C/models--py--model/snapshots/$PSHA" ] \
    || fail "python cache by commit: $(cat "$T/err")"
[ "$(nreq)" -eq "$n0" ] && ok "no request for a Python-written cache" || fail "requests made for a cached snapshot"
# ... and with no server at all (hub unreachable): falls back to the cache with a warning
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null
out=$("$HS" fetch pythia-70m 2>"$T/err") && [ "$out" = "$C/$M/snapshots/$SHA" ] && grep -q "warning" "$T/err" \
    && ok "hub down: cached snapshot used, warned" || fail "hub down with cache: $out $(cat "$T/err")"
if "$HS" fetch pythia-410m 2>"$T/err" >/dev/null; then fail "hub down, nothing cached: succeeded"
else grep -q "cannot reach http://127.0.0.1:$PORT" "$T/err" && ok "no network: $(cat "$T/err")" || fail "no network message: $(cat "$T/err")"; fi

# ---------------------------------------------------------------- 14. connection dropped mid-file: resume completes it
start_hub drop --drop
export HF_HUB_CACHE=$T/cache2
C=$T/cache2
out=$("$HS" fetch pythia-70m 2>"$T/err") || fail "fetch with drops: $(cat "$T/err")"
check "$C" models EleutherAI/pythia-70m main model.safetensors "$T/root/models/EleutherAI/pythia-70m/main/model.safetensors" \
    && [ "$(grep -c "GET /cdn/" "$LOG")" -eq 2 ] && grep "GET /cdn/" "$LOG" | tail -1 | grep -q "bytes=[1-9][0-9]*-" \
    && ok "dropped connection resumed with Range, sha256 verified" || { fail "drop/resume"; cat "$LOG"; }

# 15. an .incomplete left by an earlier run is resumed; a corrupt one is caught by sha256
SRCF=$T/root/datasets/NeelNanda/pile-10k/main/$PQ
ETAG=$(sha256sum "$SRCF" | cut -d' ' -f1)
mkdir -p "$C/$D/blobs"
head -c 10000 "$SRCF" >"$C/$D/blobs/$ETAG.incomplete"
: >"$LOG"
out=$("$HS" fetch --dataset NeelNanda/pile-10k 2>"$T/err") || fail "resume .incomplete: $(cat "$T/err")"
grep "GET /cdn/" "$LOG" | head -1 | grep -q "bytes=10000-" && check "$C" datasets NeelNanda/pile-10k main "$PQ" "$SRCF" \
    && ok "partial download resumed from byte 10000" || { fail "resume from .incomplete"; cat "$LOG"; }
rm -rf "$C/$D"
mkdir -p "$C/$D/blobs"
head -c 10000 /dev/zero >"$C/$D/blobs/$ETAG.incomplete"
if "$HS" fetch --dataset NeelNanda/pile-10k 2>"$T/err" >/dev/null; then fail "corrupt partial accepted"
else grep -q "sha256" "$T/err" && [ ! -e "$C/$D/blobs/$ETAG.incomplete" ] && [ ! -e "$C/$D/blobs/$ETAG" ] \
    && ok "corrupt partial: checksum mismatch reported and removed" || fail "corrupt partial: $(cat "$T/err")"; fi
"$HS" fetch --dataset NeelNanda/pile-10k >/dev/null 2>"$T/err" && check "$C" datasets NeelNanda/pile-10k main "$PQ" "$SRCF" \
    && ok "next run downloads it whole" || fail "re-download after corrupt partial"

# ---------------------------------------------------------------- 16. slow server: progress with speed and ETA
start_hub slow --slow 20000
out=$("$HS" fetch test/slow 2>"$T/err") || fail "slow: $(cat "$T/err")"
grep -q "downloading model.safetensors: .* kB/s.*ETA" "$T/err" && grep -q "downloaded model.safetensors" "$T/err" \
    && ok "progress lines on a slow server: $(grep -c downloading "$T/err") updates" || fail "slow progress: $(cat "$T/err")"

# two processes fetching the same file at once: one downloads, the other waits on the lock
export HF_HUB_CACHE=$T/cache4
: >"$LOG"
"$HS" fetch test/slow >"$T/p1" 2>/dev/null & P1=$!
"$HS" fetch test/slow >"$T/p2" 2>/dev/null & P2=$!
wait $P1 && wait $P2 && cmp -s "$T/p1" "$T/p2" && [ "$(grep -c "GET /cdn/" "$LOG")" -eq 1 ] \
    && check "$T/cache4" models test/slow main model.safetensors "$T/root/models/test/slow/main/model.safetensors" \
    && ok "concurrent fetches share one download" || fail "concurrent fetches: $(cat "$LOG")"

# ---------------------------------------------------------------- 17. transient 503s are retried
start_hub flaky --fail5xx 2
export HF_HUB_CACHE=$T/cache3
"$HS" fetch pythia-70m >/dev/null 2>"$T/err" && [ "$(grep -c "GET /api/" "$LOG")" -eq 3 ] \
    && ok "503 retried with backoff" || fail "retry 503: $(cat "$T/err")"

# 18. a local path wins over a hub name
mkdir -p "$T/cwd/pythia-70m"
out=$(cd "$T/cwd" && HF_ENDPOINT=http://127.0.0.1:1 "$HS" fetch pythia-70m) && [ "$out" = "pythia-70m" ] \
    && ok "local folder wins" || fail "local path: $out"

[ "$FAILS" -eq 0 ] && echo "cli_hub: all passed" || echo "cli_hub: $FAILS failed"
[ "$FAILS" -eq 0 ]

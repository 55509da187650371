#!/usr/bin/env bash
# cli_toy_model.sh — the bundled default (issue 7): `headscan scan` with no --model and no
# --dataset scans models/toy on data/toy/toy.jsonl, and the model shows what the study
# looks for:
#  * an induction head: best induction score >= 0.5 (analysis.md §8 on [BOS, r, r] with
#    r from the scan's own pool, at the longest length the model's context allows);
#  * a mover head well separated from the rest: the best head's mover_dla_no_ind is at
#    least MOVER_RATIO times the median head's (and the median is positive).
# usage: bash cli_toy_model.sh HEADSCAN SOURCE_DIR SHARED_DIR
set -u
HS=$1; SRC=$2
MOVER_RATIO=3
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fail=0; n=0
check() { n=$((n+1)); if ! eval "$2"; then echo "FAIL: $1"; fail=$((fail+1)); else echo "ok: $1"; fi; }
# (the bundled files are found under HEADSCAN_HOME, by default the source tree it was built from)
(cd "$W" && HEADSCAN_HOME="$SRC" "$HS" scan --out "$W/out") > "$W/stdout" 2> "$W/err"; rc=$?
check "scan with no arguments succeeds (rc $rc: $(tail -n 3 "$W/err"))" '[ $rc -eq 0 ] && [ -s "$W/out/head_table.csv" ]'
[ $rc -eq 0 ] || { echo "cli_toy_model: $n checks, $fail failed"; exit 1; }
# best induction head; best and median mover_dla_no_ind (columns looked up by name)
read -r ind ind_label mbest mlabel mmed < <(awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { ind[NR] = $col["induction"]; mv[NR] = $col["mover_dla_no_ind"]; lab[NR] = $col["label"] }
  END {
    bi = 2; bm = 2; k = 0
    for (r = 2; r <= NR; r++) { if (ind[r] + 0 > ind[bi] + 0) bi = r; if (mv[r] + 0 > mv[bm] + 0) bm = r; s[++k] = mv[r] + 0 }
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
    med = (k % 2) ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2
    printf "%s %s %s %s %s\n", ind[bi], lab[bi], mv[bm], lab[bm], med
  }' "$W/out/head_table.csv")
echo "best induction: $ind_label $ind; mover_dla_no_ind: best $mlabel $mbest, median head $mmed"
check "an induction head: $ind_label scores $ind (>= 0.5)" 'awk -v x="$ind" "BEGIN { exit !(x >= 0.5) }"'
check "the best mover head ($mlabel, $mbest) >= $MOVER_RATIO x the median head ($mmed)" \
  'awk -v b="$mbest" -v m="$mmed" -v r=$MOVER_RATIO "BEGIN { exit !(m > 0 && b >= r * m) }"'
echo "cli_toy_model: $n checks, $fail failed"
[ $fail -eq 0 ]

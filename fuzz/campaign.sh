#!/usr/bin/env bash
# A fuzz campaign: every target (or the ones named) for a given time each,
# one libFuzzer job at a time (-jobs=1) under `nice`, new inputs into a
# scratch directory; then the inputs that add coverage are merged into the
# committed corpus (`-merge=1`: only inputs with new features are copied),
# and one line per target is appended to fuzz/campaigns.tsv (the table in
# fuzz/README.md sums it).
#
#   fuzz/campaign.sh                  # every target, $SECS (300) seconds each
#   SECS=600 fuzz/campaign.sh peer    # just these targets
#   PEER_SECS=900 fuzz/campaign.sh    # per-target override (<TARGET>_SECS)
#
# Progress (target k of n, its seconds, elapsed, estimate) goes to stderr
# when stderr is a terminal; nothing of it otherwise. Exits non-zero if a
# target crashed (the input is in fuzz/artifacts/<target>/; the campaign
# goes on with the next target).
set -euo pipefail
cd "$(dirname "$0")"

all=(decode json control peer reassembly sealed_open ffi link)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${all[@]}")
fi
secs_of() {
  local v="${1^^}_SECS"
  echo "${!v:-${SECS:-300}}"
}

tty=false
if [ -t 2 ]; then tty=true; fi
progress() { if $tty; then printf '\r\033[K%s' "$*" >&2; fi; }
hms() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

total=0
for t in "${targets[@]}"; do total=$((total + $(secs_of "$t"))); done

echo "==> cargo +nightly fuzz build (${targets[*]})"
for t in "${targets[@]}"; do
  nice -n 10 cargo +nightly fuzz build "$t" >/dev/null
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -f campaigns.tsv ] ||
  printf 'date\tcommit\ttarget\tseconds\tinputs\texec_per_s\tcov\tft\tcorpus_added\tcrashes\n' >campaigns.tsv

start=$(date +%s)
done_secs=0
failed=()
k=0
for t in "${targets[@]}"; do
  k=$((k + 1))
  s=$(secs_of "$t")
  mkdir -p "$work/$t" "corpus/$t" "artifacts/$t"
  before=$(ls "corpus/$t" | wc -l)
  echo "==> [$k/${#targets[@]}] $t: $s s"
  rm -f fuzz-0.log
  # -jobs=1: one worker, its output in fuzz-0.log.
  nice -n 10 cargo +nightly fuzz run "$t" "$work/$t" "corpus/$t" -- \
    -max_total_time="$s" -jobs=1 -workers=1 -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$work/$t.out" 2>&1 &
  pid=$!
  t0=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    now=$(date +%s)
    el=$((now - start))
    mine=$((now - t0))
    left=$((total - done_secs - (mine < s ? mine : s)))
    progress "[$k/${#targets[@]}] $t $(hms $((mine < s ? mine : s)))/$(hms "$s")  elapsed $(hms "$el")  left ~$(hms "$left")"
    sleep 2
  done
  progress ""
  rc=0
  wait "$pid" || rc=$?
  log="$work/$t.log"
  cp fuzz-0.log "$log" 2>/dev/null || cp "$work/$t.out" "$log"
  rm -f fuzz-0.log
  done_secs=$((done_secs + s))
  inputs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  crashes=0
  if [ "$rc" -ne 0 ] || grep -qE '^==[0-9]+==ERROR|panicked at|deadly signal' "$log"; then
    crashes=1
    failed+=("$t")
    echo "    CRASH in $t (see fuzz/artifacts/$t/ and the log below)"
    grep -E 'panicked at|ERROR|Test unit written' "$log" | head -5 | sed 's/^/    /'
  fi
  # Keep what adds coverage: -merge=1 copies into corpus/$t only the
  # scratch inputs with features the committed corpus lacks.
  nice -n 10 cargo +nightly fuzz run "$t" "corpus/$t" "$work/$t" -- -merge=1 \
    -timeout=20 -rss_limit_mb=2048 >"$work/$t.merge" 2>&1 || true
  added=$(($(ls "corpus/$t" | wc -l) - before))
  echo "    $t: ${inputs:-?} inputs (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, +$added corpus inputs, crashes $crashes"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$commit" "$t" "$s" \
    "${inputs:-}" "${rate:-}" "${cov:-}" "${ft:-}" "$added" "$crashes" >>campaigns.tsv
done
echo "campaign: $(hms $(($(date +%s) - start))) wall; log lines appended to fuzz/campaigns.tsv"
if [ ${#failed[@]} -gt 0 ]; then
  echo "campaign: crashes in ${failed[*]}" >&2
  exit 1
fi

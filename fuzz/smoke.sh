#!/usr/bin/env bash
# CI fuzz smoke test: the decode target for 60 s and the json target for 30 s,
# starting from the committed corpora (plus fresh seeds from the vectors).
# Exits non-zero on a crash (the input is left in fuzz/artifacts/<target>/).
# About 3-4 minutes on 2 cores, including installing cargo-fuzz.
#
#   fuzz/smoke.sh                 # DECODE_SECS=60 JSON_SECS=30 by default
#
# Seeds and new inputs go to a temporary directory, not into fuzz/corpus/,
# so the committed (minimised) corpus does not change; grow it with a long
# run instead (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")"

decode_secs="${DECODE_SECS:-60}"
json_secs="${JSON_SECS:-30}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz/smoke.sh: needs a nightly toolchain (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Fresh seeds (vectors, bench packets, JSON cases) into the scratch dirs.
bash ./seed-corpus.sh "$work"

run() {
  local target="$1" secs="$2"
  mkdir -p "$work/$target" "corpus/$target"
  echo "==> cargo +nightly fuzz run $target ($secs s)"
  # First directory: where new inputs go. Second: the committed corpus (read).
  cargo +nightly fuzz run "$target" "$work/$target" "corpus/$target" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
}

run decode "$decode_secs"
run json "$json_secs"
echo "fuzz smoke: no crash"

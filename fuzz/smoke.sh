#!/usr/bin/env bash
# CI fuzz smoke test: every target for a few seconds, starting from the
# committed corpora (plus fresh seeds from the vectors). Exits non-zero on a
# crash (the input is left in fuzz/artifacts/<target>/).
#
#   target       default seconds   what it fuzzes
#   decode       30                PacketRef::decode and the codec invariants
#   json         15                the JSON parser and stringifier
#   control      15                Ping/Pong/Intro/Join, questions, chain heads
#   peer         25                Peer::handle_datagram, structured sequences
#   reassembly   15                the chain Reassembler
#   sealed_open  10                sealed boxes, ese::open, verify, unpack
#   ffi          20                the C ABI entry points
#   link         10                link framing and fragment reassembly
#
# 140 s of fuzzing; with the one build of all targets about 3-4 minutes on
# 2 cores (plus installing cargo-fuzz the first time). Override a target's
# time with <TARGET>_SECS (DECODE_SECS=60 ...), or run some targets only:
#
#   fuzz/smoke.sh                 # all of them
#   fuzz/smoke.sh peer ffi        # just these
#
# Seeds and new inputs go to a temporary directory, not into fuzz/corpus/,
# so the committed (minimised) corpus does not change; grow it with a long
# run instead (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")"

declare -A secs=(
  [decode]="${DECODE_SECS:-30}"
  [json]="${JSON_SECS:-15}"
  [control]="${CONTROL_SECS:-15}"
  [peer]="${PEER_SECS:-25}"
  [reassembly]="${REASSEMBLY_SECS:-15}"
  [sealed_open]="${SEALED_OPEN_SECS:-10}"
  [ffi]="${FFI_SECS:-20}"
  [link]="${LINK_SECS:-10}"
)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode json control peer reassembly sealed_open ffi link)
fi

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

echo "==> cargo +nightly fuzz build (all targets)"
cargo +nightly fuzz build

run() {
  local target="$1" s="${secs[$1]:?unknown target $1}"
  mkdir -p "$work/$target" "corpus/$target"
  echo "==> cargo +nightly fuzz run $target ($s s)"
  # First directory: where new inputs go. Second: the committed corpus (read).
  cargo +nightly fuzz run "$target" "$work/$target" "corpus/$target" -- \
    -max_total_time="$s" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
}

for t in "${targets[@]}"; do
  run "$t"
done
echo "fuzz smoke: no crash (${targets[*]})"

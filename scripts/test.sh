#!/usr/bin/env bash
# Runs every check of the project: formatting, lints, all tests, the no_std
# probe, the golden vectors, and (when node is available) the re-check of the
# committed vectors against the reference plus a run of the Rust runner on a
# vector file generated fresh with a random seed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (workspace, all targets, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (workspace)"
cargo test --workspace

step "no_std probe: core with default features off, own panic handler and allocator"
cargo build --release --manifest-path core/nostd-probe/Cargo.toml
./core/nostd-probe/target/release/streamrelay-nostd-probe
echo "no_std probe ran: OK"

step "golden vectors through the Rust runner"
cargo build --release -p streamrelay-cli
./target/release/streamrelay vectors check vectors/*.json

if command -v node >/dev/null 2>&1; then
  step "vectors: re-check the committed files against the reference (node)"
  bash vectors/generator/setup.sh
  node vectors/generator/check.mjs vectors/*.json

  seed="ci-$(date +%s)-$RANDOM"
  step "vectors: a file the runner has never seen (seed $seed)"
  fresh="$(mktemp -d)/fresh.json"
  node vectors/generator/generate.mjs --seed "$seed" --out "$fresh"
  ./target/release/streamrelay vectors check "$fresh"
else
  echo "node not found: skipping the re-check against the reference"
fi

if [ "${STREAMRELAY_FUZZ_SMOKE:-1}" = "1" ] && [ -x fuzz/smoke.sh ]; then
  step "fuzz smoke"
  fuzz/smoke.sh
fi

printf '\nall checks passed\n'

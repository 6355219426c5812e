#!/usr/bin/env bash
# Live interop: `streamrelay peer` beside reference peers (node), all on
# 127.0.0.1. Builds the CLI, makes sure the reference is installed
# (vectors/generator/setup.sh), then runs tests/interop/run.mjs, which
# bounds every process it starts and asserts every scenario (a-g, m) from both
# sides' event lines, and that the loopback guard counted 0 sends to a
# non-loopback address.
#   bash tests/interop/run.sh [scenario ...]   (a, bcd, e, f, g, g2, m; default all)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null 2>&1 || { echo "interop: node not found, skipping"; exit 0; }
cargo build -q --release -p streamrelay-cli
[ -f vectors/generator/.ref/latica/index.js ] || bash vectors/generator/setup.sh
# Hard bound for the whole run (the scenarios take ~100 s).
exec timeout --signal=TERM --kill-after=10 240 node tests/interop/run.mjs "$@"

#!/usr/bin/env bash
# Times the Rust codec (criterion, core/benches/codec.rs) and the reference's
# (node, bench/node/codec-bench.mjs) on the same bytes (bench/packets.json)
# and prints, per packet, Rust ns/op, reference ns/op and the ratio
# reference ÷ Rust, for decode and encode. Ends with the line
#   codec ratios: decode=N.Nx encode=N.Nx
# (geometric means of the per-packet ratios).
#
#   bash bench/compare-codec.sh [--time-ms MS]     # MS per reference op, default 1000
#   bash bench/compare-codec.sh --quick            # short runs on both sides (~30 s), noisier
#
# Needs cargo and node 20; the reference is installed on first use by
# vectors/generator/setup.sh (npm). Takes about 2-3 minutes on 2 cores.
# The criterion output goes to $TARGET/criterion/compare-codec.log.
set -euo pipefail
cd "$(dirname "$0")/.."

time_ms=1000
crit_args=() # the bench's own config: 0.5 s warm-up, 2 s per bench
while [ $# -gt 0 ]; do
  case "$1" in
    --time-ms) time_ms="$2"; shift 2 ;;
    --quick) time_ms=300; crit_args=(--warm-up-time 0.2 --measurement-time 0.5); shift ;;
    *) echo "usage: $0 [--time-ms MS] [--quick]" >&2; exit 2 ;;
  esac
done

command -v node >/dev/null || { echo "compare-codec.sh: node not found" >&2; exit 1; }

target_dir=$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
mkdir -p "$target_dir/criterion"
log="$target_dir/criterion/compare-codec.log"

echo "==> bench/packets.json against the reference" >&2
node bench/node/make-packets.mjs --check >&2

echo "==> Rust: cargo bench -p streamrelay --bench codec (log: $log)" >&2
# Remove old estimates so a failed or partial run cannot be reported.
rm -rf "$target_dir/criterion/decode" "$target_dir/criterion/encode" "$target_dir/criterion/packet_id"
if ! cargo bench -p streamrelay --bench codec -- --noplot ${crit_args[@]+"${crit_args[@]}"} >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "compare-codec.sh: cargo bench failed (see $log)" >&2
  exit 1
fi

echo "==> reference: node bench/node/codec-bench.mjs --time-ms $time_ms" >&2
node_json=$(mktemp)
trap 'rm -f "$node_json"' EXIT
node bench/node/codec-bench.mjs --time-ms "$time_ms" --warmup-ms "$((time_ms < 300 ? time_ms : 300))" --json "$node_json" >/dev/null

node - "$target_dir/criterion" "$node_json" bench/packets.json <<'EOF'
const fs = require('node:fs')
const path = require('node:path')
const [critDir, nodeJson, packetsJson] = process.argv.slice(2)
const ref = JSON.parse(fs.readFileSync(nodeJson, 'utf8'))
const packets = JSON.parse(fs.readFileSync(packetsJson, 'utf8'))

// criterion: median of the per-iteration times, in ns.
const rust = (group, id) => {
  const f = path.join(critDir, group, id, 'new', 'estimates.json')
  if (!fs.existsSync(f)) throw new Error(`missing ${f}`)
  return JSON.parse(fs.readFileSync(f, 'utf8')).median.point_estimate
}
const len = Object.fromEntries(packets.packets.map((p) => [p.name, p.length]))

const geo = (xs) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length)
const ratios = {}
for (const op of ['decode', 'encode']) {
  console.log(`\n${op} (median ns/op; ratio = reference / Rust)`)
  console.log(`  ${'packet'.padEnd(18)}${'bytes'.padStart(6)}${'Rust ns'.padStart(12)}${'ref ns'.padStart(12)}${'ratio'.padStart(10)}`)
  const rs = []
  for (const [name, r] of Object.entries(ref.results[op])) {
    const ns = rust(op, name)
    const ratio = r.ns / ns
    rs.push(ratio)
    const bytes = len[name.replace(/-hash$/, '')]
    console.log(`  ${name.padEnd(18)}${String(bytes).padStart(6)}${ns.toFixed(1).padStart(12)}${r.ns.toFixed(1).padStart(12)}${(ratio.toFixed(1) + 'x').padStart(10)}`)
  }
  ratios[op] = geo(rs)
  console.log(`  ${'geometric mean'.padEnd(48)}${(ratios[op].toFixed(1) + 'x').padStart(10)}`)
}
const pid = rust('packet_id', 'message-1024')
console.log(`\npacket_id (Rust, SHA-256 over 00 || 1024 B || 00): ${pid.toFixed(1)} ns`)
console.log(`reference: ${ref.reference}, node ${ref.node}\n`)
console.log(`codec ratios: decode=${ratios.decode.toFixed(1)}x encode=${ratios.encode.toFixed(1)}x`)
EOF

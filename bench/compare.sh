#!/usr/bin/env bash
# Rust against the reference, side by side, in one run: the codec
# (bench/compare-codec.sh), the crypto against native libsodium
# (bench/crypto/compare-crypto.sh), and the relay path, seal/open and pack
# against the reference's Peer under node (bench/node/peer-bench.mjs, with
# criterion's relay and crypto benches on the Rust side). Prints each
# part's table, a summary table, and ends with exactly one line
#
#   ratios: decode=N encode=N relay=N seal=N open=N
#
# (Rust speed-up over the reference: reference time ÷ Rust time, geometric
# means over the codec packets, the relay of a 200-byte Publish; for seal and
# open native libsodium time ÷ Rust time, 864-byte messages).
#
#   bash bench/compare.sh            # about 4-5 minutes on 2 idle cores
#   bash bench/compare.sh --quick    # about 80 s with warm builds, noisier
#
# No network besides what setup needs (npm for the reference on first use,
# apt-get for libsodium-dev if missing): the reference Peer runs with stub
# sockets and a stubbed send. Logs: $TARGET/criterion/compare-*.log.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
crit_args=()
time_ms=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick); crit_args=(--warm-up-time 0.2 --measurement-time 0.5); time_ms=300; shift ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
done

command -v node >/dev/null || { echo "compare.sh: node not found" >&2; exit 1; }
start=$(date +%s)
target_dir=$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
mkdir -p "$target_dir/criterion"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Build every bench first, so the timed parts do not wait on the compiler.
echo "==> building the benches (cargo bench --no-run)" >&2
cargo bench -p streamrelay --bench codec --bench crypto --bench relay --no-run >&2 2>"$tmp/build.log" ||
  { tail -n 30 "$tmp/build.log" >&2; exit 1; }

echo "==> codec: bench/compare-codec.sh ${quick[*]}" >&2
bash bench/compare-codec.sh ${quick[@]+"${quick[@]}"} | tee "$tmp/codec.txt"

echo "==> crypto: bench/crypto/compare-crypto.sh ${quick[*]}" >&2
bash bench/crypto/compare-crypto.sh ${quick[@]+"${quick[@]}"} | tee "$tmp/crypto.txt"

log="$target_dir/criterion/compare-relay.log"
echo "==> Rust: cargo bench -p streamrelay --bench relay (log: $log)" >&2
rm -rf "$target_dir/criterion/relay"
if ! cargo bench -p streamrelay --bench relay -- --noplot 'publish_not_for_us' ${crit_args[@]+"${crit_args[@]}"} >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "compare.sh: cargo bench failed (see $log)" >&2
  exit 1
fi

echo "==> reference: node bench/node/peer-bench.mjs --time-ms $time_ms" >&2
node bench/node/peer-bench.mjs --time-ms "$time_ms" --warmup-ms 300 --json "$tmp/peer.json" >&2

node - "$target_dir/criterion" "$tmp" "$(($(date +%s) - start))" <<'EOF'
const fs = require('node:fs')
const path = require('node:path')
const [critDir, tmp, elapsed] = process.argv.slice(2)
const ref = JSON.parse(fs.readFileSync(path.join(tmp, 'peer.json'), 'utf8')).results
const codec = fs.readFileSync(path.join(tmp, 'codec.txt'), 'utf8')
const crypto = fs.readFileSync(path.join(tmp, 'crypto.txt'), 'utf8')

// criterion: median ns/iteration.
const rust = (group, id) => {
  const f = path.join(critDir, group, id, 'new', 'estimates.json')
  if (!fs.existsSync(f)) throw new Error(`missing ${f}`)
  return JSON.parse(fs.readFileSync(f, 'utf8')).median.point_estimate
}
const codecRatio = (op) => {
  const m = codec.match(new RegExp(`codec ratios:.*${op}=([0-9.]+)x`))
  if (!m) throw new Error(`no ${op} ratio from compare-codec.sh`)
  return Number(m[1])
}
// compare-crypto.sh rows: op bytes rust sodium ratio medians fastest.
const cryptoRow = (op, bytes) => {
  const m = crypto.match(new RegExp(`^\\s+${op}\\s+${bytes}\\s+([0-9]+)\\s+([0-9]+)\\s+([0-9.]+)x`, 'm'))
  if (!m) throw new Error(`no ${op}-${bytes} row from compare-crypto.sh`)
  return { rust: Number(m[1]), sodium: Number(m[2]), ratio: Number(m[3]) }
}

const us = (ns) => ns >= 1e5 ? `${(ns / 1e3).toFixed(0)} µs` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`
const x = (r) => r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`
const rows = []
const row = (what, rustNs, refNs, sodiumNs, ratio, goal) =>
  rows.push([what, rustNs == null ? '' : us(rustNs), refNs == null ? '' : us(refNs), sodiumNs == null ? '' : us(sodiumNs), x(ratio), goal])

const decode = codecRatio('decode')
const encode = codecRatio('encode')
row('decode (5 packets, geo. mean)', null, null, null, decode, '≥ 50x vs reference')
row('encode (6 cases, geo. mean)', null, null, null, encode, '')
const relay = {}
for (const n of [200, 1024]) {
  const r = rust('relay', `publish_not_for_us_${n}B`)
  relay[n] = ref[`relay-${n}`].ns / r
  row(`relay a ${n} B Publish (not for us)`, r, ref[`relay-${n}`].ns, null, relay[n], n === 200 ? '≥ 100x vs reference' : '')
}
const seal = cryptoRow('seal', 864)
const open = cryptoRow('open', 864)
row('seal 864 B vs native libsodium', seal.rust, null, seal.sodium, seal.ratio, '≥ 0.77x (within 1.3x)')
row('open 864 B vs native libsodium', open.rust, null, open.sodium, open.ratio, '≥ 0.77x (within 1.3x)')
row('seal 864 B vs reference (wasm)', seal.rust, ref['seal-864'].ns, null, ref['seal-864'].ns / seal.rust, '')
row('open 864 B vs reference (wasm)', open.rust, ref['open-864'].ns, null, ref['open-864'].ns / open.rust, '')
for (const n of [1024, 10240]) {
  const r = rust('crypto', `pack-${n}`)
  const p = cryptoRow('pack', n)
  row(`pack ${n / 1024} KB vs reference`, r, ref[`pack-${n}`].ns, null, ref[`pack-${n}`].ns / r, '')
  row(`pack ${n / 1024} KB vs libsodium (crypto only)`, p.rust, null, p.sodium, p.ratio, '')
}

const head = ['workload', 'Rust', 'reference', 'libsodium', 'ratio', 'goal']
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (r) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |'
console.log('\nsummary (ratio = other ÷ Rust: > 1 means Rust is faster; medians, one run)\n')
console.log(line(head))
console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|')
for (const r of rows) console.log(line(r))
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
console.log(`\n  reference: @socketsupply/socket@0.6.0-rc.8 under node ${process.version}; ${elapsed} s; 1-min load ${load}`)
console.log('')
const f = (v) => v >= 10 ? v.toFixed(0) : v.toFixed(2)
console.log(`ratios: decode=${f(decode)} encode=${f(encode)} relay=${f(relay[200])} seal=${f(seal.ratio)} open=${f(open.ratio)}`)
EOF

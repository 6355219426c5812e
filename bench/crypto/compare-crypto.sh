#!/usr/bin/env bash
# Times the Rust crypto (criterion, core/benches/crypto.rs) and native
# libsodium (bench/crypto/sodium_bench.c) on the same keys, sizes and bytes,
# and prints, per operation, Rust ns/op, libsodium ns/op and the ratio
# libsodium ÷ Rust (> 1 means Rust is faster). Ends with the line
#   crypto ratios: seal=N.NNx open=N.NNx sign=N.NNx verify=N.NNx
# (the 1 KB sizes: seal/open of 864 B, the single-packet maximum; sign/verify
# of 1024 B).
#
#   bash bench/crypto/compare-crypto.sh [--quick]
#
# Needs cargo, node, a C compiler and libsodium-dev (installed with apt-get
# when missing; Debian bookworm ships libsodium 1.0.18). Takes about 70 s
# on 2 cores (--quick: about 20 s, noisier). The criterion output
# goes to $TARGET/criterion/compare-crypto.log.
set -euo pipefail
cd "$(dirname "$0")/../.."

quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
done

if [ "$quick" = 1 ]; then
  crit_args=(--warm-up-time 0.2 --measurement-time 0.5)
  c_args=(--warmup-ms 200 --time-ms 500)
else
  crit_args=() # the bench's own config: 0.5 s warm-up, 2 s per bench
  c_args=(--warmup-ms 500 --time-ms 2000)
fi

command -v node >/dev/null || { echo "compare-crypto.sh: node not found" >&2; exit 1; }
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "compare-crypto.sh: no C compiler ($cc)" >&2; exit 1; }

# libsodium-dev: headers and the -lsodium link library.
if ! echo '#include <sodium.h>' | "$cc" -E -x c - >/dev/null 2>&1; then
  echo "==> installing libsodium-dev (apt-get)" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! $sudo apt-get install -y libsodium-dev >&2; then
    $sudo apt-get update >&2
    $sudo apt-get install -y libsodium-dev >&2
  fi
fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
mkdir -p "$target_dir/criterion" "$target_dir/sodium-bench"
log="$target_dir/criterion/compare-crypto.log"
sodium_bin="$target_dir/sodium-bench/sodium_bench"

echo "==> compiling bench/crypto/sodium_bench.c (-O2 -lsodium)" >&2
"$cc" -O2 -Wall -o "$sodium_bin" bench/crypto/sodium_bench.c -lsodium

# The machine may be shared: record the load so a noisy run can be told apart.
load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'; }
load_start=$(load)

echo "==> Rust: cargo bench -p streamrelay --bench crypto (log: $log)" >&2
# Remove old estimates so a failed or partial run cannot be reported.
rm -rf "$target_dir/criterion/crypto"
if ! cargo bench -p streamrelay --bench crypto -- --noplot "${crit_args[@]}" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "compare-crypto.sh: cargo bench failed (see $log)" >&2
  exit 1
fi

echo "==> libsodium: sodium_bench ${c_args[*]}" >&2
c_json=$(mktemp)
trap 'rm -f "$c_json"' EXIT
"$sodium_bin" "${c_args[@]}" --json "$c_json" 2>/dev/null
load_end=$(load)

node - "$target_dir/criterion/crypto" "$c_json" "$load_start" "$load_end" "$(nproc 2>/dev/null || echo '?')" <<'EOF'
const fs = require('node:fs')
const path = require('node:path')
const [critDir, cJson, loadStart, loadEnd, cpus] = process.argv.slice(2)
const sodium = JSON.parse(fs.readFileSync(cJson, 'utf8'))

// criterion: estimates of the per-iteration time, in ns.
const rust = (id, stat) => {
  const f = path.join(critDir, id, 'new', 'estimates.json')
  if (!fs.existsSync(f)) throw new Error(`missing ${f}`)
  return JSON.parse(fs.readFileSync(f, 'utf8'))[stat].point_estimate
}
// criterion: the fastest sample's ns/iteration (least disturbed by other work).
const rustMin = (id) => {
  const s = JSON.parse(fs.readFileSync(path.join(critDir, id, 'new', 'sample.json'), 'utf8'))
  return Math.min(...s.iters.map((n, i) => s.times[i] / n))
}

const ops = [
  ['seal', 100], ['seal', 864], ['open', 100], ['open', 864],
  ['box_seal', 1024], ['box_seal_open', 1024],
  ['sign', 1024], ['verify', 1024],
  ['pack', 1024], ['pack', 10240],
]
console.log('\ncrypto (mean ns/op; ratio = libsodium / Rust, > 1: Rust faster)')
console.log(`  ${'op'.padEnd(15)}${'bytes'.padStart(6)}${'Rust ns'.padStart(10)}${'sodium ns'.padStart(11)}${'ratio'.padStart(8)}  ${'medians'.padStart(7)}${'fastest'.padStart(9)}`)
const ratio = {}
for (const [op, bytes] of ops) {
  const id = `${op}-${bytes}`
  const s = sodium.results[id]
  if (!s) throw new Error(`sodium_bench has no ${id}`)
  const r = rust(id, 'mean')
  ratio[id] = s.mean / r
  const med = s.median / rust(id, 'median')
  const min = s.min / rustMin(id)
  const x = (v) => v.toFixed(2) + 'x'
  const mark = op === 'pack' ? ' *' : ''
  console.log(`  ${op.padEnd(15)}${String(bytes).padStart(6)}${r.toFixed(0).padStart(10)}${s.mean.toFixed(0).padStart(11)}${x(ratio[id]).padStart(8)}  ${x(med).padStart(7)}${x(min).padStart(9)}${mark}`)
}
console.log('\n  medians / fastest: the same ratio from the median sample and from the fastest')
console.log('  sample of each side (the least disturbed when the machine is shared).')
console.log('  * libsodium side of pack: only its crypto (SHA-256 of the name, sign of')
console.log('    payload[64..], the ESE seal, the chain\'s SHA-256 ids), no packet building.')
console.log(`  libsodium ${sodium.libsodium} (native, ${sodium.time_ms} ms per op); Rust: criterion mean.`)
console.log(`  1-min load average ${loadStart} before, ${loadEnd} after, on ${cpus} CPUs`)
if (Number(loadStart) >= 1 || Number(loadEnd) >= 2) // the bench itself adds ~1
  console.log('  (other work was running: expect noise; the two sides run one after the other)')
console.log('')
const f = (id) => ratio[id].toFixed(2) + 'x'
console.log(`crypto ratios: seal=${f('seal-864')} open=${f('open-864')} sign=${f('sign-1024')} verify=${f('verify-1024')}`)
EOF

#!/usr/bin/env bash
# Seeds the fuzz corpora, one file per input, named by the SHA-1 of its bytes
# (as libFuzzer names its own), so re-running only adds what is new:
#
#   fuzz/corpus/decode/  the packets of the golden vectors (vectors/*.json:
#                        packet.decode -> input.hex, packet.encode ->
#                        expected.hex) and of bench/packets.json;
#   fuzz/corpus/json/    the message fields of those packets and the JSON
#                        texts of core/tests/js_json_crosscheck/cases.json;
#   fuzz/corpus/control/ those of the JSON texts that are objects (control
#                        messages, chain heads, questions);
#   fuzz/corpus/sealed_open/, reassembly/, peer/, ffi/: structured targets
#                        (`arbitrary`); seeded with the packets as raw
#                        byte material (see below).
#
#   bash fuzz/seed-corpus.sh [DIR]
#
# With DIR, the seeds go to DIR/decode and DIR/json instead (smoke.sh seeds
# a temporary directory, so the committed, minimised corpus stays as it is).
# Uses python3, or node when python3 is missing.
set -euo pipefail
out="$(realpath -m "${1:-$(dirname "$0")/corpus}")"
cd "$(dirname "$0")/.."
mkdir -p "$out/decode" "$out/json" "$out/control" "$out/sealed_open" "$out/reassembly" "$out/peer" "$out/ffi"
export SEED_OUT="$out"

if command -v python3 >/dev/null 2>&1; then
  python3 - <<'EOF'
import glob, hashlib, json, os

def hexes_of_vectors(path):
    try:
        doc = json.load(open(path, encoding="utf-8"))
    except Exception as e:  # a file being written, or not a vector file
        print(f"seed-corpus: skipping {path}: {e}")
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        return []
    out = []
    for c in doc["cases"]:
        kind = c.get("kind")
        try:
            if kind == "packet.decode":
                h = c["input"]["hex"]
            elif kind == "packet.encode":
                h = c["expected"]["hex"]
            else:
                continue
        except (KeyError, TypeError):
            continue
        if isinstance(h, dict):
            h = h.get("hex")
        if isinstance(h, str):
            out.append(h)
    return out

def message_of(b):
    # 23-byte header, then 11 u16be-prefixed fields; the message is the 10th.
    off = 23
    for i in range(10):
        if off + 2 > len(b):
            return None
        n = int.from_bytes(b[off:off + 2], "big")
        if i == 9:
            return b[off + 2:off + 2 + n]
        off += 2 + n
    return None

def put(d, b):
    p = os.path.join(d, hashlib.sha1(b).hexdigest())
    if os.path.exists(p):
        return 0
    with open(p, "wb") as f:
        f.write(b)
    return 1

packets = []
for v in sorted(glob.glob("vectors/*.json")):
    packets += [bytes.fromhex(h) for h in hexes_of_vectors(v)]
nvec = len(packets)
if os.path.exists("bench/packets.json"):
    packets += [bytes.fromhex(p["hex"]) for p in json.load(open("bench/packets.json"))["packets"]]

texts = [m for m in (message_of(p) for p in packets) if m is not None]
cc = "core/tests/js_json_crosscheck/cases.json"
if os.path.exists(cc):
    texts += [bytes.fromhex(c[0]) for c in json.load(open(cc)) if isinstance(c, list) and c and isinstance(c[0], str)]

out = os.environ["SEED_OUT"]
nd = sum(put(os.path.join(out, "decode"), p) for p in packets)
nj = sum(put(os.path.join(out, "json"), t) for t in texts)
print(f"seed-corpus: {len(packets)} packets ({nvec} from vectors/*.json), {nd} new in {out}/decode; "
      f"{len(texts)} JSON texts, {nj} new in {out}/json")

# control: every JSON object text (control messages of types 1-4, chain
# heads and questions of types 5-8, the cross-check cases).
control = [t for t in texts if t[:1] == b"{"]
nc = sum(put(os.path.join(out, "control"), m) for m in control)

# Structured targets (`arbitrary`): their inputs are not packets, and
# arbitrary has no serialiser to make exact seeds with. The packets still
# give them the right byte material (a Raw/Decode arm reads a run of them
# whole), and these targets carry genuine packets of their own (fixtures
# built at start-up), so the fuzzer starts from real traffic either way.
small = [p for p in packets if len(p) <= 1421][:300]
ns = sum(put(os.path.join(out, "sealed_open"), p) for p in small)
nr = sum(put(os.path.join(out, "reassembly"), p) for p in small)
nf = sum(put(os.path.join(out, "ffi"), p) for p in small)
npeer = sum(put(os.path.join(out, "peer"), p) for p in small)
print(f"seed-corpus: {nc} new in {out}/control; {ns} sealed_open, {nr} reassembly, {nf} ffi, {npeer} peer seeds")
EOF
elif command -v node >/dev/null 2>&1; then
  node - <<'EOF'
const fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto')
const read = (p) => { try { return JSON.parse(fs.readFileSync(p, 'utf8')) } catch (e) { console.log(`seed-corpus: skipping ${p}: ${e.message}`); return null } }
const packets = []
for (const f of fs.readdirSync('vectors').filter((f) => f.endsWith('.json')).sort()) {
  const doc = read(path.join('vectors', f))
  for (const c of (doc && Array.isArray(doc.cases) ? doc.cases : [])) {
    let h = c.kind === 'packet.decode' ? c.input?.hex : c.kind === 'packet.encode' ? c.expected?.hex : undefined
    if (h && typeof h === 'object') h = h.hex
    if (typeof h === 'string') packets.push(Buffer.from(h, 'hex'))
  }
}
const nvec = packets.length
if (fs.existsSync('bench/packets.json')) for (const p of read('bench/packets.json').packets) packets.push(Buffer.from(p.hex, 'hex'))
const messageOf = (b) => {
  let off = 23
  for (let i = 0; i < 10; i++) {
    if (off + 2 > b.length) return null
    const n = b.readUInt16BE(off)
    if (i === 9) return b.subarray(off + 2, off + 2 + n)
    off += 2 + n
  }
}
const texts = packets.map(messageOf).filter(Boolean)
const cc = 'core/tests/js_json_crosscheck/cases.json'
if (fs.existsSync(cc)) for (const c of read(cc) || []) if (Array.isArray(c) && typeof c[0] === 'string') texts.push(Buffer.from(c[0], 'hex'))
const put = (d, b) => { const p = path.join(d, crypto.createHash('sha1').update(b).digest('hex')); if (fs.existsSync(p)) return 0; fs.writeFileSync(p, b); return 1 }
const out = process.env.SEED_OUT
const nd = packets.reduce((s, p) => s + put(path.join(out, 'decode'), p), 0)
const nj = texts.reduce((s, t) => s + put(path.join(out, 'json'), t), 0)
console.log(`seed-corpus: ${packets.length} packets (${nvec} from vectors/*.json), ${nd} new in ${out}/decode; ${texts.length} JSON texts, ${nj} new in ${out}/json`)
// control: JSON messages; the structured targets: packets as byte material
// (see the python branch).
const nc = texts.filter((m) => m[0] === 0x7b).reduce((s, m) => s + put(path.join(out, 'control'), m), 0)
const small = packets.filter((p) => p.length <= 1421).slice(0, 300)
const ns = {}
for (const t of ['sealed_open', 'reassembly', 'ffi', 'peer']) ns[t] = small.reduce((s, p) => s + put(path.join(out, t), p), 0)
console.log(`seed-corpus: ${nc} new in ${out}/control; ${ns.sealed_open} sealed_open, ${ns.reassembly} reassembly, ${ns.ffi} ffi, ${ns.peer} peer seeds`)
EOF
else
  echo "seed-corpus: neither python3 nor node found; keeping the committed corpus" >&2
fi

// Times the reference's codec (@socketsupply/socket@0.6.0-rc.8
// latica/packets.js) on the packets of bench/packets.json, the same bytes
// core/benches/codec.rs times:
//
//   decode  Packet.decode(buf)              (frame + JSON.parse + validation)
//   encode  await Packet.encode(p)          p = Packet.decode(buf), packetId set
//   encode  <name>-hash                     same with p.packetId = [0] (hashes)
//
//   node bench/node/codec-bench.mjs [--packets FILE] [--time-ms 1000]
//                                   [--warmup-ms 300] [--json OUT]
//
// For each operation: a warm-up, then batches of ~1/20 of --time-ms each
// until --time-ms is spent; the figure is the median ns/op over the batches.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadReference, ROOT } from './ref.mjs'
import { measureOp } from './measure.mjs'

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : dflt
}
const packetsFile = opt('--packets', join(ROOT, 'bench', 'packets.json'))
const timeMs = Number(opt('--time-ms', 1000))
const warmupMs = Number(opt('--warmup-ms', 300))
const jsonOut = opt('--json', null)

const { Packet } = await loadReference()
const doc = JSON.parse(readFileSync(packetsFile, 'utf8'))

const measure = (fn, isAsync) => measureOp(fn, isAsync, { timeMs, warmupMs })

const results = { decode: {}, encode: {} }

for (const { name, hex } of doc.packets) {
  const buf = Buffer.from(hex, 'hex')
  const p = Packet.decode(buf)
  if (!p) throw new Error(`${name}: the reference does not decode it`)
  const again = await Packet.encode(p)
  if (!again.equals(buf)) throw new Error(`${name}: encode(decode(bytes)) != bytes`)

  results.decode[name] = await measure(() => Packet.decode(buf), false)
  results.encode[name] = await measure(() => Packet.encode(p), true)

  if ((doc.encodeHash || []).includes(name)) {
    const q = Packet.decode(buf)
    q.packetId = Buffer.from([0])
    const hashed = await Packet.encode(q)
    if (!hashed.equals(buf)) throw new Error(`${name}: encode with packetId 00 != bytes`)
    results.encode[`${name}-hash`] = await measure(() => Packet.encode(q), true)
  }
}

const fmt = (x) => x.toFixed(1).padStart(10)
for (const op of ['decode', 'encode']) {
  console.log(`\nreference ${op} (node ${process.version}), median ns/op`)
  const rows = Object.entries(results[op])
  for (const [name, r] of rows) {
    console.log(`  ${name.padEnd(18)}${fmt(r.ns)} ns   [min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)}, ${r.batches}x${r.batch}]`)
  }
  const mean = rows.reduce((s, [, r]) => s + r.ns, 0) / rows.length
  console.log(`  ${'mean'.padEnd(18)}${fmt(mean)} ns`)
}

if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({
    reference: '@socketsupply/socket@0.6.0-rc.8 latica/packets.js',
    node: process.version,
    timeMs,
    unit: 'ns/op (median over batches)',
    results
  }, null, 2) + '\n')
}

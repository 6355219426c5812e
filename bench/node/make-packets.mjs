// Builds bench/packets.json: the benchmark packets, encoded by the reference
// (@socketsupply/socket@0.6.0-rc.8 latica/packets.js) from the inputs of the
// spec's §2.8/§2.9 examples, plus a Publish with every field at its maximum.
//
//   node bench/node/make-packets.mjs [--out bench/packets.json] [--check]
//
// --check compares with the existing file instead of writing it (exit 1 on a
// difference). core/benches/codec.rs builds the same packets with the Rust
// Packet API and refuses to run if its bytes differ from this file.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadReference, ROOT } from './ref.mjs'

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : dflt
}
const out = opt('--out', join(ROOT, 'bench', 'packets.json'))
const check = args.includes('--check')

const { Packet, PacketPing, PacketJoin, PacketPublish, PacketSync } = await loadReference()

const hex = (h) => Buffer.from(h, 'hex')
const sha256 = (b) => createHash('sha256').update(b).digest()

const CLUSTER_ID = hex('dd3b93cd8a3869b3342cd1d042b7aad4a31f84f1b4a623d13784e19ee6f89f78')
const SUBCLUSTER_ID = hex('6a72ca18c6fcbb6313fbd3a7cbb8307e1fd5aaae85679eb776b996616d029f29')
const USR1_GREETING = hex('18f6b0200b6fd32ce4e85b6c841f72247964195b8e1cd7c52e046dc51e48f779')
const PEER_ID = '4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f'

// Spec's own cross-checks of the inputs.
if (!sha256('example-cluster').equals(CLUSTER_ID)) throw new Error('clusterId')
if (!sha256('greeting').equals(USR1_GREETING)) throw new Error('usr1')

const maxMessage = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 31 + 7) & 0xff))
const maxSig = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 13 + 5) & 0xff))

const packets = [
  // §2.9 Ping with the P1 heartbeat keys: 256 bytes.
  ['ping-256', new PacketPing({
    clusterId: CLUSTER_ID,
    message: { requesterPeerId: PEER_ID, natType: 7, uptime: 60000, timestamp: 1700000000000 }
  })],
  // §2.9 Join with the J1 keys: 381 bytes.
  ['join-381', new PacketJoin({
    clock: 7,
    clusterId: CLUSTER_ID,
    subclusterId: SUBCLUSTER_ID,
    message: {
      requesterPeerId: PEER_ID,
      natType: 7,
      address: '203.0.113.5',
      port: 40000,
      key: CLUSTER_ID.toString('base64') + ':' + SUBCLUSTER_ID.toString('base64')
    }
  })],
  // §2.8 worked example: 184 bytes.
  ['publish-184', new PacketPublish({
    clusterId: CLUSTER_ID,
    subclusterId: SUBCLUSTER_ID,
    usr1: USR1_GREETING,
    message: Buffer.from('hello')
  })],
  // Every variable field at its maximum: 1421 bytes. packetId set (rule (b)).
  ['publish-1421', new PacketPublish({
    clock: 3,
    hops: 2,
    clusterId: CLUSTER_ID,
    subclusterId: SUBCLUSTER_ID,
    previousId: sha256('previous'),
    packetId: sha256(maxMessage),
    nextId: sha256('next'),
    usr1: USR1_GREETING,
    usr2: sha256('publisher'),
    usr3: sha256('usr3'),
    usr4: sha256('usr4'),
    message: maxMessage,
    sig: maxSig
  })],
  // §2.9 default Sync: 87 bytes.
  ['sync-87', new PacketSync({})]
]

const expectedLength = { 'ping-256': 256, 'join-381': 381, 'publish-184': 184, 'publish-1421': 1421, 'sync-87': 87 }
const expectedId = {
  'ping-256': '9c91649f0bc424c01d95dff24cb3c51591b2ade0d66ecff4da86e4b412976c71',
  'join-381': '15dacd0b0a37dd570d59385b0f81835b9051b9bf25bf5289ff262cbc1b1ba4f2',
  'publish-184': 'f986b0ab1555232458768f8f47b62022abfa2d40d2e6463e8e2451080b9379e9',
  'sync-87': '709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c'
}

const list = []
for (const [name, p] of packets) {
  const buf = await Packet.encode(p)
  if (buf.length !== expectedLength[name]) throw new Error(`${name}: ${buf.length} bytes`)
  const d = Packet.decode(buf)
  if (!d) throw new Error(`${name}: the reference does not decode its own encoding`)
  if (expectedId[name] && d.packetId.toString('hex') !== expectedId[name]) {
    throw new Error(`${name}: packetId ${d.packetId.toString('hex')} is not the spec's`)
  }
  list.push({ name, length: buf.length, hex: buf.toString('hex') })
}

const doc = {
  description: 'Benchmark packets, encoded by @socketsupply/socket@0.6.0-rc.8 latica/packets.js ' +
    '(bench/node/make-packets.mjs). Timed by core/benches/codec.rs and bench/node/codec-bench.mjs. ' +
    'encodeHash: packets whose encode is also timed with packetId reset to the default 00 (so the encoder hashes).',
  encodeHash: ['join-381'],
  packets: list
}
const text = JSON.stringify(doc, null, 2) + '\n'

if (check) {
  const old = readFileSync(out, 'utf8')
  if (old !== text) {
    console.error(`${out} differs from what the reference builds`)
    process.exit(1)
  }
  console.log(`${out}: ${list.length} packets, identical to the reference's`)
} else {
  writeFileSync(out, text)
  console.log(`wrote ${out}: ${list.map((p) => `${p.name} (${p.length} B)`).join(', ')}`)
}

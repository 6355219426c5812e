// Times the reference's Peer (@socketsupply/socket@0.6.0-rc.8
// latica/index.js) on the workloads core/benches/{relay,crypto}.rs time in
// Rust:
//
//   relay-200, relay-1024   Peer._onMessage(datagram) of a Publish that is
//                           not for us (200 / 1024-byte message, someone
//                           else's cluster): decode, gate, cache insert,
//                           getPeers, hops + 1, Packet.encode per target
//                           (3 of 8 fresh peers); the mcast it leaves
//                           running is awaited inside the timing.
//   seal-864, open-864      Encryption.seal / open (encrypt-sign-encrypt)
//   pack-1024, pack-10240   what api.js emit + Peer.publish do before any
//                           send: sha256(event name), Encryption.sign,
//                           Encryption.seal, Peer._message2packets
//
// No network: the Peer gets a stub dgram module (its sockets never bind,
// and their `send` refuses any non-loopback address and completes at once
// without sending), so nothing leaves the process; the fanout peers have
// loopback addresses anyway (127.0.0.x). Each datagram goes through the
// reference's own send path as the Rust side's transmits go through
// `poll_transmit_into`: `Peer.send` queues it and `_dequeue` hands it to the
// socket and decodes it again for its metrics. Only the setTimeout that
// `_scheduleSend` puts between the two is skipped (`_dequeue` is called at
// once): it is event-loop latency, and leaving it out flatters the reference.
//
// The reference's cache sorts all its entries on every insert once full
// (§10.56): O(n log n) per packet. To time its ordinary path, its gate and
// cache are emptied before each batch (outside the timing), so they never
// reach their caps. The Rust side is timed in steady state (full and
// evicting).
//
//   node bench/node/peer-bench.mjs [--time-ms 1000] [--warmup-ms 300] [--json OUT]
import { writeFileSync } from 'node:fs'
import { loadLatica } from './ref.mjs'
import { measureOp } from './measure.mjs'

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : dflt
}
const timeMs = Number(opt('--time-ms', 1000))
const warmupMs = Number(opt('--warmup-ms', 300))
const jsonOut = opt('--json', null)
const only = opt('--only', null)

const ref = await loadLatica()
const { PacketPublish, Packet, sha256 } = ref
const { Peer, RemotePeer } = ref.index
const { Encryption } = ref.encryption
const NAT_UNRESTRICTED = 31

const fill = (n, b) => Buffer.alloc(n, b)
const hex = (n) => n.toString(16).padStart(2, '0').repeat(32)

// ---- a relay peer with 8 fresh loopback peers, sockets stubbed ----------
function stubSocket () {
  const s = {
    on () { return s },
    unref () { return s },
    removeAllListeners () { return s },
    setMaxListeners () { return s },
    bind () { throw new Error('peer-bench: no socket may bind') },
    send (data, port, address, cb) {
      // Nothing is sent; the callback runs as a successful send's would.
      if (!String(address).startsWith('127.')) throw new Error(`peer-bench: send to ${address}`)
      s.sent += 1
      cb(null)
    },
    sent: 0,
    address () { return { address: '127.0.0.1', port: 0 } }
  }
  return s
}
const dgram = { createSocket: () => stubSocket() }

function relayPeer () {
  const peer = new Peer({
    peerId: hex(7),
    clusterId: fill(32, 0xc1),
    natType: NAT_UNRESTRICTED,
    address: '127.0.0.1',
    port: 1007,
    limitExempt: true
  }, dgram)
  // Only loopback peers (the reference ships public introducers).
  peer.peers = []
  for (let k = 1; k <= 8; k++) {
    const p = new RemotePeer({ peerId: hex(k), address: `127.0.0.${k + 1}`, port: 1000 + k, natType: NAT_UNRESTRICTED }, peer)
    p.lastUpdate = Date.now()
    peer.peers.push(p)
  }
  // The reference's send path without its timer: queue, then dequeue now.
  peer._scheduleSend = () => {}
  const send = peer.send.bind(peer)
  peer.send = (data, port, address, socket) => {
    send(data, port, address, socket)
    while (peer.sendQueue.length) peer._dequeue()
  }
  Object.defineProperty(peer, 'sent', { get: () => peer.socket.sent })
  return peer
}

// A unique Publish of someone else's subcluster, like core/benches/relay.rs.
async function publish (i, size) {
  const m = Buffer.alloc(size)
  m.writeBigUInt64BE(BigInt(i))
  return Packet.encode(new PacketPublish({
    hops: 1,
    clusterId: fill(32, 0xc2),
    subclusterId: fill(32, 0x5c),
    usr1: fill(32, 1),
    usr2: fill(32, 2),
    sig: fill(64, 3),
    packetId: await sha256(m, { bytes: true }),
    message: m
  }))
}

const settle = () => new Promise((resolve) => setImmediate(resolve))
const results = {}

async function benchRelay (size) {
  const peer = relayPeer()
  const pool = []
  for (let i = 0; i < 8192; i++) pool.push(await publish(i, size))
  const from = { address: '127.0.0.200', port: 9 }
  // Check: one packet → three sends.
  await peer._onMessage(pool[0], from)
  await settle()
  if (peer.sent !== 3) throw new Error(`relay-${size}: ${peer.sent} sends, want 3`)
  let next = 0
  const before = async () => {
    peer.gate.clear()
    peer.cache.data.clear()
    next = 0
  }
  const r = await measureOp(() => {
    if (next >= pool.length) throw new Error('peer-bench: batch larger than the packet pool')
    return peer._onMessage(pool[next++], from)
  }, true, { timeMs, warmupMs, settle, before })
  results[`relay-${size}`] = r
}

// ---- crypto --------------------------------------------------------------
const message = (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff))

async function benchCrypto () {
  const keys = await Encryption.createKeyPair(await Encryption.createSharedKey('example-shared-secret'))
  const publisher = await Encryption.createKeyPair('bench-publisher')
  const enc = new Encryption()
  const m = message(864)
  const sealed = enc.seal(m, keys)
  if (!Buffer.from(enc.open(sealed, keys)).equals(m)) throw new Error('seal/open round trip')
  results['seal-864'] = await measureOp(() => enc.seal(m, keys), false, { timeMs, warmupMs })
  results['open-864'] = await measureOp(() => enc.open(sealed, keys), false, { timeMs, warmupMs })

  const peer = relayPeer()
  for (const n of [1024, 10240]) {
    const payload = message(n)
    const pack = async () => {
      const args = {
        clusterId: fill(32, 0xc1),
        usr1: await sha256('bench', { bytes: true }),
        usr2: Buffer.from(publisher.publicKey),
        sig: Encryption.sign(payload, publisher.privateKey),
        subclusterId: keys.publicKey
      }
      const sealedMsg = peer.encryption.seal(payload, keys)
      return peer._message2packets(PacketPublish, sealedMsg, args)
    }
    const packets = await pack()
    const want = n > 1024 - 160 ? 1 + Math.ceil((n + 160) / 1024) : 1
    if (packets.length !== want) throw new Error(`pack-${n}: ${packets.length} packets, want ${want}`)
    results[`pack-${n}`] = await measureOp(pack, true, { timeMs, warmupMs })
  }
}

if (!only || only === 'relay') {
  await benchRelay(200)
  await benchRelay(1024)
}
if (!only || only === 'crypto') await benchCrypto()

for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(12)}${r.ns.toFixed(1).padStart(12)} ns   [min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)}, ${r.batches}x${r.batch}]`)
}
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({
    reference: '@socketsupply/socket@0.6.0-rc.8 latica/index.js, encryption.js',
    node: process.version,
    timeMs,
    unit: 'ns/op (median over batches)',
    results
  }, null, 2) + '\n')
}

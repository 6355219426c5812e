// Loads and drives the REFERENCE (npm @socketsupply/socket@0.6.0-rc.8,
// folder latica/) for interop.mjs. Nothing here re-implements the protocol:
// every seal, open, sign, verify, pack, publish, reassembly and delivery is
// the reference's own code.
//
// Where the code comes from (all read-only):
//   * vectors/generator/.ref/latica/*.js   the reference's latica/ files, as
//     vectors/generator/setup.sh copies them from the pinned package;
//   * vectors/generator/.ref/{util,buffer}.js   the generator's shims for the
//     runtime's `../util.js` and `../buffer.js`;
//   * vectors/generator/node_modules/@socketsupply/socket/crypto/sodium.js and
//     external/libsodium/index.js   the runtime's libsodium loader and the
//     libsodium build (1.0.18) the reference bundles;
//   * ./shims/crypto.js   our stand-in for the runtime's `../crypto.js`, which
//     loads that bundled libsodium the way the runtime does.
// They are copied into a fresh temporary folder laid out like the package
// (latica/, crypto/, external/libsodium/ and the three shims next to them),
// which is removed when the process exits. The generator's own `.ref/crypto.js`
// is not used: it seeds libsodium's randomness for reproducible vectors, while
// this test wants the runtime's real randomness.
//
// Network safety (same approach as vectors/generator/lib/kinds.mjs): every
// Peer gets a fake dgram whose sockets never open anything. send() transmits
// nothing and counts the call, and separately the calls to a non-loopback
// address; interop.mjs fails when that count is not 0. navigator.onLine is
// false, so the Peer's main loop does nothing (no reflection, no pings to the
// built-in public introducers) and publish() does not multicast.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import * as events from 'node:events'
import { Buffer } from 'node:buffer'
import { fileURLToPath, pathToFileURL } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const GENERATOR_DIR = path.resolve(HERE, '../../../vectors/generator')
const GEN_REF = path.join(GENERATOR_DIR, '.ref')
const SOCKET_DIR = path.join(GENERATOR_DIR, 'node_modules', '@socketsupply', 'socket')
export const PINNED = '0.6.0-rc.8'

export const hex = b => Buffer.from(b).toString('hex')

// ---------------------------------------------------------------------------
// environment, before the reference is imported

Object.defineProperty(globalThis, 'navigator', {
  value: { onLine: false, userAgent: 'streamrelay-crypto-interop' },
  configurable: true,
  writable: true
})

// Packet.decode logs every frame it rejects; keep stderr for real problems.
console.warn = () => {}

// The reference reads Date.now() for chain heads (`ts`), caches and rate
// limits. Tests set it per case so that Rust can rebuild frames byte for byte.
const realDateNow = Date.now.bind(Date)
let fixedNow = null
Date.now = () => (fixedNow === null ? realDateNow() : fixedNow)
export function setNow (ms) { fixedNow = ms }

// Rejections the reference leaves unhandled (e.g. api.js handlePacket when a
// message does not open) are recorded into the current sink, not fatal.
let rejectionSink = null
export const strayRejections = []
process.on('unhandledRejection', err => {
  const msg = String(err?.message ?? err)
  if (rejectionSink) rejectionSink.push(msg)
  else strayRejections.push(msg)
})

// ---------------------------------------------------------------------------
// loading

function need (file) {
  if (!fs.existsSync(file)) {
    throw new Error(`missing ${file}: run bash ${path.join(GENERATOR_DIR, 'setup.sh')} first`)
  }
  return file
}

let runtimeDir = null
process.on('exit', () => {
  if (runtimeDir) fs.rmSync(runtimeDir, { recursive: true, force: true })
})

function buildRuntimeDir () {
  need(path.join(GEN_REF, 'latica', 'index.js'))
  const version = JSON.parse(fs.readFileSync(need(path.join(SOCKET_DIR, 'package.json')))).version
  if (version !== PINNED) throw new Error(`expected @socketsupply/socket ${PINNED}, found ${version}`)

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamrelay-crypto-interop-'))
  runtimeDir = dir
  const copy = (from, to) => {
    fs.mkdirSync(path.dirname(to), { recursive: true })
    fs.copyFileSync(need(from), to)
  }
  for (const f of fs.readdirSync(path.join(GEN_REF, 'latica'))) {
    if (f.endsWith('.js')) copy(path.join(GEN_REF, 'latica', f), path.join(dir, 'latica', f))
  }
  copy(path.join(GEN_REF, 'util.js'), path.join(dir, 'util.js'))
  copy(path.join(GEN_REF, 'buffer.js'), path.join(dir, 'buffer.js'))
  copy(path.join(HERE, 'shims', 'crypto.js'), path.join(dir, 'crypto.js'))
  copy(path.join(SOCKET_DIR, 'crypto', 'sodium.js'), path.join(dir, 'crypto', 'sodium.js'))
  copy(path.join(SOCKET_DIR, 'external', 'libsodium', 'index.js'), path.join(dir, 'external', 'libsodium', 'index.js'))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  return { dir, version }
}

export async function loadReference () {
  const { dir, version } = buildRuntimeDir()
  const url = f => pathToFileURL(path.join(dir, f)).href
  // api.js first: the only import order in which latica's circular imports
  // evaluate without a TDZ error (see vectors/generator/lib/ref.mjs).
  const apiMod = await import(url('latica/api.js'))
  const index = await import(url('latica/index.js'))
  const packets = await import(url('latica/packets.js'))
  const encryption = await import(url('latica/encryption.js'))
  const crypto = await import(url('crypto.js'))
  await crypto.sodium.ready
  return {
    version,
    api: apiMod.api,
    Peer: index.Peer,
    Packet: packets.Packet,
    PacketPublish: packets.PacketPublish,
    Encryption: encryption.Encryption,
    sodium: crypto.sodium
  }
}

// ---------------------------------------------------------------------------
// fake network

export const netStats = { sockets: 0, sends: 0, nonLoopbackSends: 0, openSockets: 0 }

const isLoopback = a => typeof a === 'string' && (/^127\./.test(a) || a === 'localhost' || a === '::1')

class FakeSocket extends EventEmitter {
  constructor () {
    super()
    this.boundPort = 0
    this.closed = false
    netStats.sockets++
    netStats.openSockets++
  }

  bind (port) {
    this.boundPort = port || 50000 + netStats.sockets
    setImmediate(() => this.emit('listening'))
    return this
  }

  address () { return { address: '0.0.0.0', family: 'IPv4', port: this.boundPort } }

  // Never transmits. Reports an error so that nothing counts as sent.
  send (data, port, address, cb) {
    netStats.sends++
    if (!isLoopback(address)) netStats.nonLoopbackSends++
    if (typeof cb === 'function') {
      setImmediate(() => cb(Object.assign(new Error('fake dgram: not sent'), { code: 'EFAKE' })))
    }
  }

  close () {
    if (!this.closed) netStats.openSockets--
    this.closed = true
    this.removeAllListeners()
  }

  unref () { return this }
  ref () { return this }
}

function makeFakeDgram () {
  const peers = []
  return {
    peers,
    createSocket (_type, _listener, owner) {
      if (owner && !peers.includes(owner)) peers.push(owner)
      return new FakeSocket()
    }
  }
}

export const flush = async (n = 4) => {
  for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve))
}

const PUBLISHER = { address: '127.0.0.1', port: 47001 }
const RECEIVER = { address: '127.0.0.1', port: 47002 }

// ---------------------------------------------------------------------------
// buses

/**
 * A publishing reference bus (`api(options, events, fakeDgram)`) with a
 * subcluster for `sharedKey`. Observes, without changing anything, what
 * publish() sealed and the chain _message2packets() built (encoded at once,
 * hops 0, before publish's local compose touches the head).
 */
export async function publisher (ref, { clusterId, signingKeys, sharedKey, tag }) {
  const { Encryption } = ref
  const dgram = makeFakeDgram()
  const bus = await ref.api({
    peerId: await Encryption.createId('streamrelay crypto interop publisher ' + tag),
    clusterId,
    signingKeys,
    port: PUBLISHER.port,
    address: PUBLISHER.address,
    worker: false
  }, events, dgram)
  const peer = dgram.peers[0]
  const seen = { sealed: [], chains: [], published: [] }

  const realPublish = peer.publish.bind(peer)
  peer.publish = async (sk, args) => {
    seen.published.push({ ...args, message: Buffer.from(args.message) })
    return realPublish(sk, args)
  }
  const realSeal = peer.encryption.seal.bind(peer.encryption)
  peer.encryption.seal = (message, v) => {
    const out = realSeal(message, v)
    seen.sealed.push(Buffer.from(out))
    return out
  }
  const realM2P = peer._message2packets.bind(peer)
  peer._message2packets = async (T, message, args) => {
    const list = await realM2P(T, message, args)
    const frames = []
    for (const p of list) frames.push(Buffer.from(await ref.Packet.encode(p)))
    seen.chains.push(frames)
    return list
  }

  const sub = await bus.subcluster({ sharedKey })
  await flush()
  return { bus, peer, sub, seen, close: () => bus.close() }
}

/**
 * A receiving reference bus: same clusterId, natType 31 (a peer without a
 * NAT type ignores Publish packets), joined to the subcluster of `sharedKey`,
 * with an application listener `sub.on(eventName, cb)`. `deliver(frames)`
 * hands each frame to the Peer's socket 'message' handler, as a datagram from
 * 127.0.0.1, and returns what the subcluster emitter emitted:
 *   emitted   every emission of the subcluster emitter, other than the '#…'
 *             bookkeeping ones: {name, payload|null, verified, packetId, …}
 *             for events (name = hex of usr1), {name: 'unverified'|'unopened'}
 *   heard     how many times the application listener ran
 *   rejections  promise rejections the reference left unhandled meanwhile
 */
export async function receiver (ref, { clusterId, sharedKey, eventName, tag }) {
  const { Encryption } = ref
  const dgram = makeFakeDgram()
  const bus = await ref.api({
    peerId: await Encryption.createId('streamrelay crypto interop receiver ' + tag),
    clusterId,
    signingKeys: await Encryption.createKeyPair('streamrelay crypto interop receiver signing key'),
    port: RECEIVER.port,
    address: RECEIVER.address,
    natType: 31,
    worker: false
  }, events, dgram)
  const peer = dgram.peers[0]
  const sub = await bus.subcluster({ sharedKey })
  await flush()

  const emitted = []
  let heard = 0
  const realEmit = sub._emit
  sub._emit = function (name, ...args) {
    if (typeof name === 'string' && name[0] !== '#') {
      if (name === 'unverified' || name === 'unopened') {
        const p = name === 'unverified' ? args[0] : args[0]?.packet
        emitted.push({ name, packetId: p?.packetId ? hex(p.packetId) : null })
      } else {
        const [opened, packet] = args
        emitted.push({
          name,
          payload: opened === undefined || opened === null ? null : hex(opened),
          verified: packet?.verified === true,
          packetId: hex(packet.packetId),
          previousId: hex(packet.previousId),
          usr1: hex(packet.usr1),
          usr2: hex(packet.usr2),
          clock: packet.clock,
          ttl: packet.ttl,
          index: packet.index,
          isComposed: packet.isComposed === true
        })
      }
    }
    return realEmit.call(this, name, ...args)
  }
  if (eventName !== undefined) await sub.on(eventName, () => { heard++ })

  const deliver = async frames => {
    const rejections = []
    rejectionSink = rejections
    try {
      for (const f of frames) {
        peer.socket.emit('message', Buffer.from(f), { port: PUBLISHER.port, address: PUBLISHER.address })
        await flush(8)
      }
      await flush(16)
    } finally {
      rejectionSink = null
    }
    return { emitted, heard, rejections }
  }
  return { bus, peer, sub, deliver, close: () => bus.close() }
}

// A REFERENCE peer (npm @socketsupply/socket@0.6.0-rc.8, latica/ api() bus)
// on real UDP sockets behind a LOOPBACK GUARD, printing the same JSON event
// lines as `streamrelay peer`. Options (a subset of the CLI's, same names):
//   --port N --seed S --cluster-seed S --introducer ADDR:PORT:PEERID ...
//   --nat N --indexed --keepalive MS --join SEED ... --publish SEED:EVENT:PAYLOAD ...
//   --publish-delay MS --listen EVENT ... --duration S
//   --drop-port N ...   guard rule: drop every datagram sent to 127.0.0.1:N
//                       (to make two peers unable to reach each other)
//   --address IP        bind address (default 127.0.0.1; the NAT lab,
//                       tests/natlab/, binds a lab namespace's address)
//   --allow CIDR ...    IPv4 ranges the guard lets through besides loopback
//                       (the NAT lab's documentation ranges)
//
// The loopback guard (a dgram wrapper handed to the reference): every socket
// binds 127.0.0.1 (or --address); a send to an address outside loopback and
// the --allow ranges is dropped and counted (`guard.nonLoopback` in the
// summary line; the tests assert 0);
// setBroadcast / addMembership / setMulticast* throw. The reference's
// built-in public introducers are removed from the peer table before init,
// so nothing is even attempted towards them; the guard is the safety net.
// The guard also counts what goes out: the summary's `sent` has the CLI's
// layout (datagrams by type byte, index 0 = not starting with the magic),
// and `datagramsIn` counts what the sockets received.
//
// The reference code is loaded from the copy vectors/generator/setup.sh made
// (read-only), with our real-randomness crypto shim (./shims/crypto.js, from
// core/tests/crypto_interop/shims/).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import realDgram from 'node:dgram'
import * as events from 'node:events'
import { Buffer } from 'node:buffer'
import { fileURLToPath, pathToFileURL } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const GENERATOR_DIR = path.resolve(HERE, '../../vectors/generator')
const GEN_REF = path.join(GENERATOR_DIR, '.ref')
const SOCKET_DIR = path.join(GENERATOR_DIR, 'node_modules', '@socketsupply', 'socket')
const PINNED = '0.6.0-rc.8'
const start = Date.now()

// ---------------------------------------------------------------- options
const opts = { introducer: [], join: [], publish: [], listen: [], dropPort: [], allow: [], address: '127.0.0.1', publishDelay: 3000, clusterSeed: 'latica-oracle' }
{
  const a = process.argv.slice(2)
  for (let i = 0; i < a.length; i++) {
    const k = a[i]
    const v = () => a[++i]
    switch (k) {
      case '--port': opts.port = Number(v()); break
      case '--seed': opts.seed = v(); break
      case '--cluster-seed': opts.clusterSeed = v(); break
      case '--introducer': opts.introducer.push(v()); break
      case '--nat': opts.nat = Number(v()); break
      case '--indexed': opts.indexed = true; break
      case '--keepalive': opts.keepalive = Number(v()); break
      case '--join': opts.join.push(v()); break
      case '--publish': opts.publish.push(v()); break
      case '--publish-delay': opts.publishDelay = Number(v()); break
      case '--listen': opts.listen.push(v()); break
      case '--duration': opts.duration = Number(v()); break
      case '--drop-port': opts.dropPort.push(Number(v())); break
      case '--address': opts.address = v(); break
      case '--allow': opts.allow.push(v()); break
      default: throw new Error(`unknown option ${k}`)
    }
  }
}

const out = (event, fields = {}) => {
  process.stdout.write(JSON.stringify({ t: Date.now() - start, event, ...fields }) + '\n')
}
console.warn = () => {}
process.on('unhandledRejection', err => out('error', { message: String(err?.message ?? err) }))

// ---------------------------------------------------------------- guard
const guard = { sends: 0, nonLoopback: 0, dropped: 0, refused: 0 }
// Datagrams handed to the real socket, by type like the CLI's summary `sent`:
// index = byte 4 (the type) when the datagram starts with the 4-byte magic,
// index 0 ('raw') otherwise. `datagramsIn`: datagrams received, all sockets.
const MAGIC = [0x03, 0x05, 0x0b, 0x11]
const sent = new Array(9).fill(0)
let datagramsIn = 0
const typeOf = data => {
  const b = typeof data === 'string' ? Buffer.from(data) : data
  if (!b || b.length <= 4) return 0
  for (let i = 0; i < 4; i++) if (b[i] !== MAGIC[i]) return 0
  return b[4] < sent.length ? b[4] : 0
}
const ipv4 = a => typeof a === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(a) ? a.split('.').reduce((n, x) => n * 256 + Number(x), 0) : null
const allowed = opts.allow.map(c => {
  const [net, bits] = c.split('/')
  const n = ipv4(net); const b = Number(bits ?? 32)
  if (n === null || !(b >= 8 && b <= 32)) throw new Error(`--allow ${c}: expected an IPv4 CIDR, /8 or narrower`)
  const size = 2 ** (32 - b)
  return { lo: n - (n % size), size }
})
const isLoopback = a => typeof a === 'string' && (/^127\./.test(a) || a === 'localhost' || a === '::1' ||
  allowed.some(r => ipv4(a) !== null && ipv4(a) >= r.lo && ipv4(a) < r.lo + r.size))
const peerOwners = []

function guardedSocket () {
  const s = realDgram.createSocket('udp4')
  const bind = s.bind.bind(s)
  s.bind = (port, ...rest) => {
    if (typeof port === 'object' && port) port = port.port
    const cb = rest.find(x => typeof x === 'function')
    return bind({ port: port || 0, address: opts.address }, cb)
  }
  const send = s.send.bind(s)
  s.send = (data, ...args) => {
    // (msg, port, address, cb) is the only form latica uses; accept offset/length too.
    let rest = args
    if (typeof args[0] === 'number' && typeof args[1] === 'number' && typeof args[2] === 'number') rest = args.slice(2)
    const [port, address] = rest
    const cb = args.find(x => typeof x === 'function')
    guard.sends++
    if (!isLoopback(address)) {
      guard.nonLoopback++
      if (cb) setImmediate(cb, null)
      return
    }
    if (opts.dropPort.includes(Number(port))) {
      guard.dropped++
      if (cb) setImmediate(cb, null)
      return
    }
    sent[typeOf(data)]++
    return send(data, ...args)
  }
  for (const m of ['setBroadcast', 'addMembership', 'dropMembership', 'setMulticastInterface', 'setMulticastTTL', 'setMulticastLoopback']) {
    s[m] = () => { guard.refused++; throw new Error(`loopback guard: ${m} refused`) }
  }
  s.on('error', () => {})
  // count in emit: latica calls removeAllListeners() on its sockets
  const emit = s.emit.bind(s)
  s.emit = (name, ...a) => { if (name === 'message') datagramsIn++; return emit(name, ...a) }
  return s
}

const dgram = {
  createSocket (_type, _listener, owner) {
    if (owner && !peerOwners.includes(owner)) peerOwners.push(owner)
    return guardedSocket()
  }
}

// ---------------------------------------------------------------- load
function need (f) {
  if (!fs.existsSync(f)) throw new Error(`missing ${f}: run bash vectors/generator/setup.sh first`)
  return f
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamrelay-interop-ref-'))
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
{
  const version = JSON.parse(fs.readFileSync(need(path.join(SOCKET_DIR, 'package.json')))).version
  if (version !== PINNED) throw new Error(`expected @socketsupply/socket ${PINNED}, found ${version}`)
  const copy = (from, to) => { fs.mkdirSync(path.dirname(to), { recursive: true }); fs.copyFileSync(need(from), to) }
  for (const f of fs.readdirSync(path.join(GEN_REF, 'latica'))) {
    if (f.endsWith('.js')) copy(path.join(GEN_REF, 'latica', f), path.join(dir, 'latica', f))
  }
  copy(path.join(GEN_REF, 'util.js'), path.join(dir, 'util.js'))
  copy(path.join(GEN_REF, 'buffer.js'), path.join(dir, 'buffer.js'))
  copy(path.join(HERE, 'shims', 'crypto.js'), path.join(dir, 'crypto.js'))
  copy(path.join(SOCKET_DIR, 'crypto', 'sodium.js'), path.join(dir, 'crypto', 'sodium.js'))
  copy(path.join(SOCKET_DIR, 'external', 'libsodium', 'index.js'), path.join(dir, 'external', 'libsodium', 'index.js'))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
}
const url = f => pathToFileURL(path.join(dir, f)).href
const { api } = await import(url('latica/api.js'))
const { Peer, Encryption, sha256 } = await import(url('latica/index.js'))
const { sodium } = await import(url('crypto.js'))
await sodium.ready

// ---------------------------------------------------------------- peer
const hex = b => Buffer.from(b).toString('hex')
const peerId = await Encryption.createId(opts.seed || String(Math.random()))
const clusterId = await Encryption.createClusterId(opts.clusterSeed)
const signingKeys = await Encryption.createKeyPair(opts.seed || peerId)

// Take the built-in public introducers out before init; add ours.
const realInit = Peer.prototype.init
Peer.prototype.init = async function (...a) {
  const RemotePeer = this.peers[0]?.constructor
  this.peers = []
  for (const i of opts.introducer) {
    const [address, port, id] = i.split(':')
    this.peers.push(new RemotePeer({ address, port: Number(port), peerId: id, natType: 31, indexed: true }, this))
  }
  return realInit.apply(this, a)
}

const names = new Map()
for (const n of [...opts.listen, ...opts.publish.map(p => p.split(':')[1])]) names.set(await sha256(n), n)
const subSeeds = new Map() // subclusterId hex -> seed
const subs = new Map() // seed -> sub
const counts = {}
const localIds = new Set()
const count = k => { counts[k] = (counts[k] || 0) + 1 }

const config = { peerId, clusterId, signingKeys, worker: false }
if (opts.port) config.port = opts.port
if (opts.keepalive) config.keepalive = opts.keepalive
if (opts.indexed) config.indexed = true
if (opts.nat) { config.natType = opts.nat; config.address = opts.address }

let bus
const busReady = new Promise(resolve => { bus = api(config, events, dgram).then(b => { resolve(b); return b }) })
// api() runs init() before it returns: hook the Peer as soon as it exists.
const hookTimer = setInterval(() => {
  const p = peerOwners[0]
  if (!p || p.__hooked) return
  p.__hooked = true
  p.onListening = () => out('listening', { address: opts.address, port: p.socket.address().port, peerId, publicKey: hex(signingKeys.publicKey) })
}, 0)
bus = await busReady
clearInterval(hookTimer)
const peer = peerOwners[0]
if (!peer.__hooked) out('listening', { address: opts.address, port: peer.config.port, peerId, publicKey: hex(signingKeys.publicKey) })

if (opts.indexed) out('ready', { natType: peer.natType ?? 31, address: opts.address, port: peer.config.port })
bus._on('#ready', info => { count('ready'); out('ready', { natType: info?.natType ?? peer.natType, address: info?.address ?? null, port: info?.port ?? null }) })
bus._on('#network-change', nat => { count('network-change'); out('network-change', { natType: nat }) })
bus._on('#connection', (packet, p, port, address) => {
  count('connection')
  out('connection', { peerId: p?.peerId, address: p?.address ?? address, port: p?.port ?? port, natType: p?.natType ?? null, proxy: p?.proxy?.peerId ?? null })
})
bus._on('#disconnection', p => { count('disconnection'); out('disconnection', { peerId: p?.peerId }) })
bus._on('#error', e => out('error', { message: String(e?.message ?? e) }))

const seeds = [...new Set([...opts.join, ...opts.publish.map(p => p.split(':')[0])])]
for (const s of seeds) {
  const sharedKey = await Encryption.createSharedKey(s)
  const sub = await bus.subcluster({ sharedKey })
  subs.set(s, sub)
  subSeeds.set(hex(sub.subclusterId), s)
  sub._on('#join', ee => { count('join'); out('join', { subcluster: s, peerId: ee.peerId }) })
  const realEmit = sub._emit
  sub._emit = function (name, ...args) {
    if (typeof name === 'string' && name[0] !== '#') {
      if (name === 'unverified' || name === 'unopened') {
        out('error', { message: name, subcluster: s })
      } else {
        const [opened, packet] = args
        // the reference echoes its own publishes (onPacket(p, port, address, true))
        if (!(packet?.packetId && localIds.has(hex(packet.packetId)))) {
          count('message')
          const buf = opened ? Buffer.from(opened) : Buffer.alloc(0)
          const payload = { utf8: buf.toString('utf8'), hex: buf.toString('hex') }
          try { payload.json = JSON.parse(payload.utf8) } catch {}
          out('message', {
            subcluster: s,
            eventName: names.get(name) ?? name,
            payload,
            verified: packet?.verified === true,
            signer: packet?.usr2 ? hex(packet.usr2) : null,
            packetId: packet?.packetId ? hex(packet.packetId) : null,
            hops: packet?.hops ?? null
          })
        }
      }
    }
    return realEmit.call(this, name, ...args)
  }
}
// Mark the reference's local echo of its own publishes.
const realOnPacket = peer.onPacket
peer.onPacket = (packet, ...args) => {
  if (args[2] === true && typeof args[0] === 'number' && packet?.packetId) localIds.add(hex(packet.packetId))
  return realOnPacket(packet, ...args)
}

// ---------------------------------------------------------------- publishes
let delay = 0
for (const p of opts.publish) {
  const [s, eventName, ...rest] = p.split(':')
  const raw = rest.join(':')
  let value = raw
  if (raw.startsWith('hex:')) value = Buffer.from(raw.slice(4), 'hex')
  else if (raw.startsWith('{') || raw.startsWith('[')) value = JSON.parse(raw)
  delay += opts.publishDelay
  setTimeout(async () => {
    try {
      const packets = await subs.get(s).emit(eventName, value)
      out('published', { subcluster: s, eventName, packets: packets?.length ?? 0 })
    } catch (e) { out('error', { message: 'publish: ' + (e?.message ?? e) }) }
  }, delay)
}

// ---------------------------------------------------------------- exit
let done = false
const finish = () => {
  if (done) return
  done = true
  const table = peer.peers.map(p => ({ peerId: p.peerId, address: p.address, port: p.port, natType: p.natType ?? null, proxy: p.proxy?.peerId ?? null, connected: !!p.connected }))
  out('summary', { peerId, natType: peer.natType ?? null, peers: peer.peers.length, datagramsIn, sent, table, guard, counts })
  try { bus.close() } catch {}
  setTimeout(() => process.exit(0), 50).unref()
  for (const s of [peer.socket, peer.probeSocket]) { try { s.close() } catch {} }
  process.exit(0)
}
process.on('SIGINT', finish)
process.on('SIGTERM', finish)
if (opts.duration) setTimeout(finish, opts.duration * 1000)

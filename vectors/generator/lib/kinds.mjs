// One function per case kind: run the reference on a case's `input` and
// return the `expected` object. generate.mjs and check.mjs share these, so a
// check re-runs exactly the code that produced the file.
import { EventEmitter } from 'node:events'
import * as events from 'node:events'
import { Buffer } from 'node:buffer'
import {
  hex, tHex, tStr, fromTagged, decodedForm, errorText, jsonNormalize,
  NUMBER_KEYS, isTagged, sameJson
} from './values.mjs'

// ---------------------------------------------------------------------------
// packet.encode / packet.decode

export function fieldsToJs (fields) {
  const out = {}
  for (const [k, v] of Object.entries(fields)) {
    if (NUMBER_KEYS.has(k)) {
      out[k] = v
    } else {
      const js = fromTagged(v)
      if (js !== undefined) out[k] = js
    }
  }
  return out
}

export async function packetEncode (ref, input) {
  const fields = input.fields
  const Cls = ref.classes[fields.type]
  if (!Cls) throw new Error(`packet.encode: fields.type must be 1..8, got ${fields.type}`)
  let p
  try {
    p = new Cls(fieldsToJs(fields))
  } catch (err) {
    return { error: errorText(err), stage: 'construct' }
  }
  let buf
  try {
    buf = await ref.Packet.encode(p)
  } catch (err) {
    return { error: errorText(err), stage: 'encode' }
  }
  const d = ref.Packet.decode(buf)
  const out = { hex: hex(buf), length: buf.length, decodeAccepted: d !== null }
  if (d) out.decoded = decodedForm(d)
  return out
}

export async function packetDecode (ref, input) {
  const buf = Buffer.from(input.hex, 'hex')
  const p = ref.Packet.decode(buf)
  if (!p) return { accepted: false }
  const decoded = decodedForm(p)
  let reencoded
  try {
    reencoded = { hex: hex(await ref.Packet.encode(p)) }
  } catch (err) {
    reencoded = { error: errorText(err) }
  }
  return { accepted: true, decoded, reencoded }
}

// ---------------------------------------------------------------------------
// crypto.*

const curve = (ref, kp) => ({
  curve25519PublicKey: tHex(ref.sodium.crypto_sign_ed25519_pk_to_curve25519(kp.publicKey)),
  curve25519SecretKey: tHex(ref.sodium.crypto_sign_ed25519_sk_to_curve25519(kp.privateKey))
})

async function createKeyPair (ref, input) {
  let kp
  try {
    kp = await ref.Encryption.createKeyPair(fromTagged(input.seed))
  } catch (err) {
    return { error: errorText(err) }
  }
  return { publicKey: tHex(kp.publicKey), privateKey: tHex(kp.privateKey), ...curve(ref, kp) }
}

function needTruthy (v, what) {
  if (!v) throw new Error(`${what}: a falsy seed makes the reference return random bytes; not a vector`)
}

async function createSharedKey (ref, input) {
  const seed = fromTagged(input.seed)
  needTruthy(seed, 'crypto.createSharedKey')
  try {
    return { sharedKey: tHex(await ref.Encryption.createSharedKey(seed)) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

async function createClusterId (ref, input) {
  const v = fromTagged(input.value)
  needTruthy(v, 'crypto.createClusterId')
  try {
    return { clusterId: tHex(await ref.Encryption.createClusterId(v)) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

async function createId (ref, input) {
  const v = fromTagged(input.value)
  needTruthy(v, 'crypto.createId')
  try {
    return { id: tStr(await ref.Encryption.createId(v)) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

async function sha256 (ref, input) {
  const v = fromTagged(input.value)
  // sha256 turns a non-binary object (null too) into JSON text before its falsy test
  if (!(v !== null && typeof v === 'object') && v !== null) needTruthy(v, 'crypto.sha256')
  const opts = input.opts === undefined ? undefined : structuredClone(input.opts)
  try {
    const out = await ref.packets.sha256(v, opts)
    return { output: opts && opts.bytes ? tHex(out) : tStr(out) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

async function sign (ref, input) {
  try {
    const sig = ref.Encryption.sign(fromTagged(input.message), fromTagged(input.privateKey))
    return { sig: tHex(sig) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

async function verify (ref, input) {
  try {
    const ok = ref.Encryption.verify(fromTagged(input.message), fromTagged(input.sig), fromTagged(input.publicKey))
    return { verified: ok === true }
  } catch (err) {
    return { error: errorText(err) }
  }
}

function keysFrom (input) {
  return { publicKey: new Uint8Array(fromTagged(input.keys.publicKey)), privateKey: new Uint8Array(fromTagged(input.keys.privateKey)) }
}

async function open (ref, input) {
  const enc = new ref.Encryption()
  try {
    const pt = enc.open(new Uint8Array(fromTagged(input.ciphertext)), keysFrom(input))
    return { plaintext: tHex(pt) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

async function openUnsigned (ref, input) {
  const enc = new ref.Encryption()
  try {
    const pt = enc.openUnsigned(new Uint8Array(fromTagged(input.ciphertext)), keysFrom(input))
    return { plaintext: tHex(pt) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

// ---------------------------------------------------------------------------
// nat.*, cache.*, validate.id

async function connectionStrategy (ref, input) {
  const s = ref.nat.connectionStrategy(input.a, input.b)
  return { strategy: s, name: ref.nat.toStringStrategy(s) }
}

async function classify (ref, input) {
  const n = input.natType
  return {
    isValid: ref.nat.isValid(n),
    isEndpointDependenceDefined: ref.nat.isEndpointDependenceDefined(n),
    isFirewallDefined: ref.nat.isFirewallDefined(n),
    name: ref.nat.toString(n)
  }
}

async function cacheSummary (ref, input) {
  const cache = new ref.Cache()
  let i = 0
  for (const key of input.packetIds) {
    const packet = new ref.classes[5]({ message: Buffer.from(`entry ${i++}`) })
    cache.insert(key, packet)
  }
  const summary = await cache.summarize(input.prefix, () => true)
  const encoded = ref.Cache.encodeSummary(summary)
  const decoded = ref.Cache.decodeSummary(encoded)
  return { summary: jsonNormalize(summary), encoded: tHex(encoded), decoded: jsonNormalize(decoded) }
}

async function decodeSummary (ref, input) {
  try {
    return { decoded: jsonNormalize(ref.Cache.decodeSummary(Buffer.from(input.hex, 'hex'))) }
  } catch (err) {
    return { error: errorText(err) }
  }
}

const ID_FNS = new Set(['isValidPeerId', 'isValidReflectionId', 'isValidPingId'])
async function validateId (ref, input) {
  if (!ID_FNS.has(input.fn)) throw new Error(`validate.id: unknown fn ${input.fn}`)
  return { result: ref.Peer[input.fn](input.value) === true }
}

// ---------------------------------------------------------------------------
// api.pack: a publishing reference bus and a receiving reference bus, both on
// a fake dgram that never opens a socket.

export const netStats = { sends: 0, nonLoopbackSends: 0, sockets: 0 }

const isLoopback = a => typeof a === 'string' && (/^127\./.test(a) || a === 'localhost' || a === '::1')

class FakeSocket extends EventEmitter {
  constructor (owner) {
    super()
    this.owner = owner
    this.boundPort = 0
    this.closed = false
    netStats.sockets++
  }

  bind (port) {
    this.boundPort = port || 50000 + netStats.sockets
    setImmediate(() => this.emit('listening'))
    return this
  }

  address () { return { address: '0.0.0.0', family: 'IPv4', port: this.boundPort } }

  send (data, port, address, cb) {
    netStats.sends++
    if (!isLoopback(address)) netStats.nonLoopbackSends++
    // never transmitted; report an error so nothing is counted as published
    if (typeof cb === 'function') setImmediate(() => cb(Object.assign(new Error('fake dgram: not sent'), { code: 'EFAKE' })))
  }

  close () { this.closed = true; this.removeAllListeners() }
  unref () { return this }
  ref () { return this }
}

function makeFakeDgram () {
  const peers = []
  return {
    peers,
    createSocket (type, _listener, owner) {
      if (owner && !peers.includes(owner)) peers.push(owner)
      return new FakeSocket(owner)
    }
  }
}

const flush = async (n = 4) => {
  for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve))
}

const PUBLISHER = { address: '127.0.0.1', port: 47001 }
const RECEIVER = { address: '127.0.0.1', port: 47002 }

async function apiPack (ref, input, options = {}) {
  const { Encryption } = ref
  const rejections = []
  const onRejection = err => rejections.push(errorText(err))
  process.on('unhandledRejection', onRejection)

  const signingKeys = await Encryption.createKeyPair(input.signingSeed)
  const clusterId = await Encryption.createClusterId(input.clusterIdSeed)
  const sharedKey = await Encryption.createSharedKey(input.sharedKeySeed)
  const subclusterId = (await Encryption.createKeyPair(sharedKey)).publicKey

  // ---- publisher
  const pubDgram = makeFakeDgram()
  const pubBus = await ref.api({
    peerId: await Encryption.createId('streamrelay-vectors publisher ' + input.signingSeed),
    clusterId,
    signingKeys,
    port: PUBLISHER.port,
    address: PUBLISHER.address,
    worker: false
  }, events, pubDgram)
  const pubPeer = pubDgram.peers[0]

  // observe what pack() handed to publish(), and what seal() produced
  let published = null
  let sealed = null
  const realPublish = pubPeer.publish.bind(pubPeer)
  pubPeer.publish = async (sk, args) => {
    published = { ...args, message: Buffer.from(args.message) }
    return realPublish(sk, args)
  }
  const realSeal = pubPeer.encryption.seal.bind(pubPeer.encryption)
  pubPeer.encryption.seal = (message, v) => {
    const out = realSeal(message, v)
    if (options.sealOverride) {
      // check mode: replay the recorded (random) sealed bytes
      sealed = Buffer.from(options.sealOverride)
      return new Uint8Array(sealed)
    }
    sealed = Buffer.from(out)
    return out
  }

  // snapshot the chain as publish() built it, before anything else touches it
  // (publish's local compose later sets meta.ts on the cached head, §7.3 step 5)
  let built = null
  const realM2P = pubPeer._message2packets.bind(pubPeer)
  pubPeer._message2packets = async (T, message, args) => {
    const list = await realM2P(T, message, args)
    built = []
    for (const p of list) built.push(Buffer.from(await ref.Packet.encode(p)))
    return list
  }

  const pubSub = await pubBus.subcluster({ sharedKey })
  const value = isTagged(input.value) ? fromTagged(input.value) : input.value
  const eventName = isTagged(input.eventName) ? fromTagged(input.eventName) : input.eventName
  const opts = input.opts === undefined ? {} : structuredClone(input.opts)
  if (opts.packet) opts.packet = { ...opts.packet, packetId: fromTagged(opts.packet.packetId) }
  let returnedPackets
  try {
    returnedPackets = await pubSub.emit(eventName, value, opts)
  } catch (err) {
    // pack() threw (a value Buffer.from refuses, a bad event name): nothing was published
    pubBus.close()
    process.off('unhandledRejection', onRejection)
    if (published || built) throw new Error('api.pack: emit threw after publishing: ' + errorText(err))
    return { error: errorText(err) }
  }
  await flush()

  const cachedCount = pubBus.getState().data.length
  if (!built || cachedCount !== built.length) throw new Error('api.pack: publish did not build and cache the chain')
  const packets = []
  for (const buf of built) {
    const d = ref.Packet.decode(buf)
    packets.push({ hex: hex(buf), fields: d ? decodedForm(d) : null })
  }

  const returned = (Array.isArray(returnedPackets) ? returnedPackets : [returnedPackets]).map(p => (p
    ? { packetId: hex(p.packetId), index: p.index, isComposed: p.isComposed === true, messageLength: Buffer.from(p.message).length }
    : null))

  const plaintext = published.message
  const verified = Encryption.verify(plaintext, published.sig, published.usr2) === true

  // ---- receiver: joined the subcluster, fed the packets through its socket
  const recvDgram = makeFakeDgram()
  const recvBus = await ref.api({
    peerId: await Encryption.createId('streamrelay-vectors receiver ' + input.sharedKeySeed),
    clusterId,
    signingKeys: await Encryption.createKeyPair('streamrelay-vectors receiver signing key'),
    port: RECEIVER.port,
    address: RECEIVER.address,
    natType: 31, // a peer with no NAT type ignores Publish packets
    worker: false
  }, events, recvDgram)
  const recvPeer = recvDgram.peers[0]
  const recvSub = await recvBus.subcluster({ sharedKey })
  await flush()

  const delivered = []
  const realEmit = recvSub._emit
  recvSub._emit = function (name, ...args) {
    if (typeof name === 'string' && name[0] !== '#') {
      if (name === 'unverified' || name === 'unopened') {
        delivered.push({ event: name })
      } else {
        const [opened, packet] = args
        delivered.push({
          eventName: name,
          payload: tHex(opened),
          verified: packet?.verified === true,
          packetId: hex(packet.packetId)
        })
      }
    }
    return realEmit.call(this, name, ...args)
  }

  const order = options.deliveryOrder || packets.map((_, i) => i)
  for (const i of order) {
    recvPeer.socket.emit('message', Buffer.from(packets[i].hex, 'hex'), { port: PUBLISHER.port, address: PUBLISHER.address })
    await flush()
  }
  await flush(8)

  pubBus.close()
  recvBus.close()
  process.off('unhandledRejection', onRejection)
  if (rejections.length) throw new Error('api.pack: unhandled rejection in the reference: ' + rejections.join('; '))

  return {
    signingKeys: { publicKey: tHex(signingKeys.publicKey), privateKey: tHex(signingKeys.privateKey) },
    clusterId: tHex(clusterId),
    sharedKey: tHex(sharedKey),
    subclusterId: tHex(subclusterId),
    usr1: tHex(published.usr1),
    usr2: tHex(published.usr2),
    sig: tHex(published.sig),
    plaintext: tHex(plaintext),
    sealed: tHex(sealed),
    fragments: packets.length > 1 ? packets.length - 1 : 0,
    packets,
    returned,
    verified,
    delivered
  }
}

// ---------------------------------------------------------------------------

export const RUNNERS = {
  'packet.encode': packetEncode,
  'packet.decode': packetDecode,
  'crypto.createKeyPair': createKeyPair,
  'crypto.createSharedKey': createSharedKey,
  'crypto.createClusterId': createClusterId,
  'crypto.createId': createId,
  'crypto.sha256': sha256,
  'crypto.sign': sign,
  'crypto.verify': verify,
  'crypto.open': open,
  'crypto.openUnsigned': openUnsigned,
  'api.pack': apiPack,
  'nat.connectionStrategy': connectionStrategy,
  'nat.classify': classify,
  'cache.summary': cacheSummary,
  'cache.decodeSummary': decodeSummary,
  'validate.id': validateId
}

export const KINDS = Object.keys(RUNNERS)

// Re-run a case and compare with its recorded `expected`. Returns a list of
// problems (empty when the case still holds).
export async function checkCase (ref, c) {
  const run = RUNNERS[c.kind]
  if (!run) return [`unknown kind ${c.kind}`]
  const problems = []
  let got
  if (c.kind === 'api.pack' && !('error' in (c.expected || {}))) {
    const sealedRec = c.expected?.sealed
    if (!isTagged(sealedRec) || !('hex' in sealedRec)) return ['api.pack: expected.sealed missing']
    // the sealed bytes are random: they must open to the plaintext ...
    try {
      const kp = await ref.Encryption.createKeyPair(fromTagged(c.expected.sharedKey))
      const opened = new ref.Encryption().open(new Uint8Array(fromTagged(sealedRec)), kp)
      if (hex(opened) !== c.expected.plaintext?.hex) problems.push('sealed does not open to plaintext')
    } catch (err) {
      problems.push('sealed does not open: ' + errorText(err))
    }
    // ... and replaying them through the reference must give the same file entry
    try {
      got = await run(ref, c.input, { sealOverride: fromTagged(sealedRec) })
    } catch (err) {
      problems.push(errorText(err))
      return problems
    }
  } else {
    got = await run(ref, c.input)
  }
  if (!sameJson(got, c.expected)) {
    problems.push(describeDiff(c.expected, got))
  }
  return problems
}

function describeDiff (want, got, p = 'expected') {
  if (sameJson(want, got)) return null
  if (want && got && typeof want === 'object' && typeof got === 'object' && Array.isArray(want) === Array.isArray(got)) {
    const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])]
    for (const k of keys) {
      const d = describeDiff(want[k], got[k], `${p}.${k}`)
      if (d) return d
    }
    return `${p}: key order differs`
  }
  if (typeof want === 'string' && typeof got === 'string') {
    let i = 0
    while (i < want.length && i < got.length && want[i] === got[i]) i++
    const win = t => JSON.stringify(t.slice(Math.max(0, i - 8), i + 24))
    return `${p}: strings differ at character ${i} (lengths ${want.length}/${got.length}): recorded ...${win(want)}, reference now gives ...${win(got)}`
  }
  const s = v => { const t = JSON.stringify(v); return t === undefined ? 'undefined' : (t.length > 120 ? t.slice(0, 117) + '...' : t) }
  return `${p}: recorded ${s(want)}, reference now gives ${s(got)}`
}

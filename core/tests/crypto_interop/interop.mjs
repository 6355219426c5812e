// Node side of core/tests/crypto_interop.rs.
//
// Reads one JSON request on stdin, writes one JSON answer on stdout. The
// functions below mirror the reference (@socketsupply/socket@0.6.0-rc.8,
// latica/encryption.js, latica/api.js `pack`/`unpack`, Peer.publish and
// `_message2packets` in latica/index.js, `Packet.encode`/`decode` in
// latica/packets.js, `Cache.compose` in latica/cache.js) line for line where
// it matters, with libsodium-wrappers pinned to libsodium 1.0.18, the version
// the reference bundles. Byte values travel as lowercase hex.
import crypto from 'node:crypto'
import _sodium from 'libsodium-wrappers'

await _sodium.ready
const sodium = _sodium

const hex = (b) => Buffer.from(b).toString('hex')
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'))
const attempt = (f) => {
  try {
    return { ok: f() }
  } catch (err) {
    return { err: String(err?.message ?? err) }
  }
}

// --- latica/packets.js `sha256` (node code path) ---------------------------
const isBufferLike = (o) => ArrayBuffer.isView(o) || o instanceof ArrayBuffer || Buffer.isBuffer(o)
function sha256 (seed, opts = {}) {
  const encoding = opts.encoding || 'hex'
  if (typeof seed === 'object' && !isBufferLike(seed)) seed = JSON.stringify(seed)
  if (seed) {
    const value = crypto.createHash('sha256').update(seed)
    if (opts.bytes) return Buffer.from(value.digest(encoding), encoding)
    return value.digest(encoding)
  }
  const value = Buffer.from(sodium.randombytes_buf(32))
  return opts.bytes ? value : value.toString(encoding)
}

// --- latica/encryption.js ----------------------------------------------------
const Encryption = {
  createSharedKey (seed) {
    if (seed) return sodium.crypto_generichash(32, seed)
    return sodium.randombytes_buf(32)
  },
  createKeyPair (seed) {
    seed = seed || sodium.randombytes_buf(32)
    if (typeof seed === 'string') seed = sodium.crypto_generichash(32, seed)
    return sodium.crypto_sign_seed_keypair(seed)
  },
  createId (str) {
    return sha256(str || sodium.randombytes_buf(32))
  },
  createClusterId (str) {
    return sha256(str || sodium.randombytes_buf(32), { bytes: true })
  },
  sign (b, sk) {
    const ct = b.subarray(sodium.crypto_sign_BYTES)
    return sodium.crypto_sign_detached(ct, sk)
  },
  verify (b, sig, pk) {
    if (sig.length !== sodium.crypto_sign_BYTES) return false
    const ct = b.subarray(sodium.crypto_sign_BYTES)
    return sodium.crypto_sign_verify_detached(sig, ct, pk)
  },
  openUnsigned (message, v) {
    const pk = toPK(v.publicKey)
    const sk = toSK(v.privateKey)
    return Buffer.from(sodium.crypto_box_seal_open(message, pk, sk))
  },
  sealUnsigned (message, v) {
    const pk = toPK(v.publicKey)
    const ct = sodium.crypto_box_seal(message, pk)
    return sodium.crypto_box_seal(ct, pk)
  },
  open (message, v) {
    const pk = toPK(v.publicKey)
    const sk = toSK(v.privateKey)
    const buf = sodium.crypto_box_seal_open(message, pk, sk)
    if (buf.byteLength <= sodium.crypto_sign_BYTES) throw new Error('EMALFORMED')
    const sig = buf.subarray(0, sodium.crypto_sign_BYTES)
    const ct = buf.subarray(sodium.crypto_sign_BYTES)
    if (!sodium.crypto_sign_verify_detached(sig, ct, v.publicKey)) throw new Error('ENOTVERIFIED')
    return sodium.crypto_box_seal_open(ct, pk, sk)
  },
  seal (message, v) {
    const pk = toPK(v.publicKey)
    const ct = sodium.crypto_box_seal(message, pk)
    const sig = sodium.crypto_sign_detached(ct, v.privateKey)
    return sodium.crypto_box_seal(new Uint8Array(Buffer.concat([sig, ct])), pk)
  }
}
function toPK (pk) {
  try { return sodium.crypto_sign_ed25519_pk_to_curve25519(pk) } catch {}
  return new Uint8Array(0)
}
function toSK (sk) {
  try { return sodium.crypto_sign_ed25519_sk_to_curve25519(sk) } catch {}
  return new Uint8Array(0)
}

// --- latica/packets.js encode / decode (byte fields only) --------------------
const CACHE_TTL = 60_000 * 60 * 6
const SPEC = [
  ['type', 1, 'u'], ['version', 2, 'u', 6], ['clock', 4, 'u', 1], ['hops', 4, 'u', 0],
  ['index', 4, 'i', -1], ['ttl', 4, 'u', CACHE_TTL],
  ['clusterId', 32], ['subclusterId', 32], ['previousId', 32], ['packetId', 32], ['nextId', 32],
  ['usr1', 32], ['usr2', 32], ['usr3', 32], ['usr4', 32], ['message', 1024], ['sig', 64]
]
const DEFAULT = Buffer.from([0])

function encode (p) {
  p = { ...p }
  if (p.index <= 0 && typeof p.message === 'object' && !isBufferLike(p.message)) {
    p.message = JSON.stringify(p.message)
  }
  if (p.message.length > 1024) throw new Error('ETOOBIG')
  if (p.packetId.length === 1 && p.packetId[0] === 0) {
    p.packetId = sha256(Buffer.concat([p.previousId, Buffer.from(p.message), p.nextId]), { bytes: true })
  }
  const bufs = [Buffer.from([3, 5, 11, 17])]
  for (const [k, bytes, num, def] of SPEC) {
    if (num) {
      const b = Buffer.alloc(bytes)
      const v = typeof p[k] !== 'undefined' ? p[k] : def
      if (bytes === 1) b.writeUInt8(v)
      else if (bytes === 2) b.writeUInt16BE(v)
      else if (num === 'i') b.writeInt32BE(v)
      else b.writeUInt32BE(v)
      bufs.push(b)
      continue
    }
    const v = Buffer.from(p[k] || DEFAULT)
    const len = Buffer.alloc(2)
    len.writeUInt16BE(v.length)
    bufs.push(len, v)
  }
  return Buffer.concat(bufs)
}

function decode (buf) {
  if (hex(buf.subarray(0, 4)) !== '03050b11') return null
  let off = 4
  const o = {}
  for (const [k, bytes, num] of SPEC) {
    if (num) {
      o[k] = bytes === 1 ? buf.readUInt8(off) : bytes === 2 ? buf.readUInt16BE(off) : num === 'i' ? buf.readInt32BE(off) : buf.readUInt32BE(off)
      off += bytes
      continue
    }
    const size = buf.readUInt16BE(off)
    off += 2
    let value = buf.subarray(off, off + size)
    off += size
    if (size > bytes) return null
    if (k === 'message' && ([1, 2, 3, 4, 8].includes(o.type) || o.index === 0)) {
      try { value = JSON.parse(value.toString()) } catch {}
    }
    o[k] = value
  }
  return o
}

// --- latica/index.js `_message2packets` (no parent in the cache here: the
// caller passes the parent's clock and its siblings' highest clock) ---------
function message2packets (type, message, args, now) {
  const { clusterId, subclusterId, packet, nextId, meta = {}, usr1, usr2, sig } = args
  let messages = [message]
  const len = message?.byteLength ?? message?.length ?? 0
  let clock = packet?.clock || 0
  if (packet && packet.siblingClock !== undefined) clock = Math.max(clock, packet.siblingClock) + 1
  clock += 1
  if (len > 1024) {
    messages = [{ meta, ts: now, size: message.length, indexes: Math.ceil(message.length / 1024) }]
    let pos = 0
    while (pos < message.length) messages.push(message.slice(pos, pos += 1024))
  }
  const packets = messages.map(message => ({
    type,
    clock,
    hops: 0,
    index: -1,
    ttl: args.ttl,
    clusterId: Buffer.from(clusterId),
    subclusterId: Buffer.from(subclusterId),
    previousId: DEFAULT,
    packetId: DEFAULT,
    nextId: DEFAULT,
    usr1,
    usr2,
    usr3: args.usr3,
    usr4: args.usr4,
    message,
    sig
  }))
  if (packet) packets[0].previousId = Buffer.from(packet.packetId)
  if (nextId) packets[packets.length - 1].nextId = Buffer.from(nextId)
  for (let i = 0; i < packets.length; i++) {
    if (packets.length > 1) packets[i].index = i
    if (i === 0) {
      packets[0].packetId = sha256(packets[0].message, { bytes: true })
    } else {
      packets[i].previousId = Buffer.from(packets[0].packetId)
    }
    if (packets[i + 1]) {
      packets[i + 1].packetId = sha256(
        Buffer.concat([sha256(packets[i].packetId, { bytes: true }), sha256(packets[i + 1].message, { bytes: true })]),
        { bytes: true }
      )
      packets[i].nextId = Buffer.from(packets[i + 1].packetId)
    }
  }
  return packets
}

// --- api.js `pack` + Peer.publish --------------------------------------------
function packAndPublish (ev) {
  const signingKeys = Encryption.createKeyPair(ev.signingSeed)
  const keys = Encryption.createKeyPair(Encryption.createSharedKey(ev.sharedSeed))
  const opts = {}
  if (ev.ttl !== undefined) opts.ttl = ev.ttl
  if (opts.ttl) opts.ttl = Math.min(opts.ttl, CACHE_TTL)
  const args = { clusterId: unhex(ev.clusterId), ...opts, usr1: sha256(ev.name, { bytes: true }) }
  if (ev.parent) args.packet = { packetId: unhex(ev.parent.packetId), clock: ev.parent.clock, siblingClock: ev.parent.siblingClock }
  if (ev.nextId) args.nextId = unhex(ev.nextId)
  args.message = Buffer.from(unhex(ev.payload))
  args.usr2 = Buffer.from(signingKeys.publicKey)
  args.sig = Encryption.sign(args.message, signingKeys.privateKey)
  // publish(sharedKey, args)
  args.subclusterId = keys.publicKey
  const message = Encryption.seal(args.message, keys)
  const packets = message2packets(5, message, args, ev.now)
  return { sealed: hex(message), frames: packets.map(p => hex(encode(p))) }
}

// --- cache.js `compose` + api.js `unpack`, for packets in arrival order -----
function compose (packet, source) {
  let previous = packet
  if (packet?.index > 0) previous = source.get(hex(packet.previousId))
  if (!previous) return null
  const { size, indexes } = previous.message
  let bufs = [...source.values()].filter(p => {
    if (!p.previousId) return false
    return Buffer.from(p.previousId).compare(Buffer.from(previous.packetId)) === 0
  })
  if (!indexes || bufs.length < indexes) return null
  bufs = bufs.sort((a, b) => a.index - b.index)
  const message = Buffer.concat(bufs.map(p => p.message), size)
  const packetId = sha256(Buffer.concat([Buffer.from(packet.previousId || ''), message]), { bytes: true })
  return { ...packet, packetId, message, index: -1 }
}

function receive (ev) {
  const keys = Encryption.createKeyPair(Encryption.createSharedKey(ev.sharedSeed))
  const source = new Map()
  for (const f of ev.frames) {
    const p = decode(Buffer.from(f, 'hex'))
    if (!p) return { err: 'decode' }
    source.set(hex(p.packetId), p)
    const whole = p.index > -1 ? compose(p, source) : p
    if (!whole) continue
    let opened
    try {
      opened = Encryption.open(whole.message, keys)
    } catch (err) {
      return { err: String(err.message) }
    }
    let verified = false
    try {
      verified = Encryption.verify(opened, whole.sig, whole.usr2)
    } catch {
      return { err: 'unverified', packetId: hex(whole.packetId) }
    }
    return {
      payload: hex(opened),
      verified,
      packetId: hex(whole.packetId),
      usr1: hex(whole.usr1),
      usr2: hex(whole.usr2),
      clock: whole.clock,
      ttl: whole.ttl
    }
  }
  return { err: 'incomplete' }
}

// --- request ---------------------------------------------------------------
const chunks = []
for await (const c of process.stdin) chunks.push(c)
const req = JSON.parse(Buffer.concat(chunks).toString())
const keysOf = (sharedSeed) => Encryption.createKeyPair(Encryption.createSharedKey(sharedSeed))
const out = { sodiumVersion: sodium.sodium_version_string() }

const seed = (s) => (s.hex !== undefined ? unhex(s.hex) : s.text)
out.identity = (req.identity ?? []).map(s => ({
  keyPair: attempt(() => { const k = Encryption.createKeyPair(seed(s)); return { publicKey: hex(k.publicKey), privateKey: hex(k.privateKey) } }),
  sharedKey: attempt(() => hex(Encryption.createSharedKey(seed(s)))),
  clusterId: attempt(() => hex(Encryption.createClusterId(seed(s)))),
  id: attempt(() => Encryption.createId(seed(s)))
}))
out.pkToCurve = (req.pkToCurve ?? []).map(pk => attempt(() => hex(sodium.crypto_sign_ed25519_pk_to_curve25519(unhex(pk)))))
out.skToCurve = (req.skToCurve ?? []).map(sk => attempt(() => hex(sodium.crypto_sign_ed25519_sk_to_curve25519(unhex(sk)))))
out.sign64 = (req.sign64 ?? []).map(c => hex(Encryption.sign(unhex(c.message), Encryption.createKeyPair(c.signingSeed).privateKey)))
out.verify64 = (req.verify64 ?? []).map(c => attempt(() => Encryption.verify(unhex(c.message), unhex(c.sig), unhex(c.publicKey))))
out.verifyDetached = (req.verifyDetached ?? []).map(c => attempt(() => sodium.crypto_sign_verify_detached(unhex(c.sig), unhex(c.message), unhex(c.publicKey))))
out.boxOpen = (req.boxOpen ?? []).map(c => attempt(() => hex(sodium.crypto_box_seal_open(unhex(c.sealed), unhex(c.publicKey), unhex(c.secretKey)))))
out.eseOpen = (req.eseOpen ?? []).map(c => attempt(() => hex(Encryption.open(unhex(c.sealed), keysOf(c.sharedSeed)))))
out.openUnsigned = (req.openUnsigned ?? []).map(c => attempt(() => hex(Encryption.openUnsigned(unhex(c.sealed), keysOf(c.sharedSeed)))))
out.nodeSeal = (req.nodeSeal ?? []).map(c => {
  const keys = keysOf(c.sharedSeed)
  const m = unhex(c.message)
  return {
    box: hex(sodium.crypto_box_seal(m, toPK(keys.publicKey))),
    ese: hex(Encryption.seal(m, keys)),
    unsigned: hex(Encryption.sealUnsigned(m, keys))
  }
})
out.receive = (req.receive ?? []).map(receive)
out.publish = (req.publish ?? []).map(ev => {
  const r = packAndPublish(ev)
  const fwd = receive({ sharedSeed: ev.sharedSeed, frames: r.frames })
  const rev = receive({ sharedSeed: ev.sharedSeed, frames: [...r.frames].reverse() })
  return { ...r, forward: fwd, reverse: rev }
})
process.stdout.write(JSON.stringify(out))

// Node side of core/tests/crypto_interop.rs.
//
// Reads one JSON request on stdin, writes one JSON answer on stdout; byte
// values travel as lowercase hex. Everything is answered by the REFERENCE's
// own code (@socketsupply/socket@0.6.0-rc.8 latica/, on the libsodium 1.0.18
// it bundles; see reference.mjs for how it is loaded and kept offline):
//
//   identity       Encryption.createKeyPair / createSharedKey /
//                  createClusterId / createId (static)
//   sign64         Encryption.sign          verify64   Encryption.verify
//   verifyDetached Encryption.verify of (64 zero bytes ‖ message): verify
//                  drops the first 64 bytes, so this is exactly
//                  crypto_sign_verify_detached(sig, message, pk) as the
//                  reference runs it (sig must be 64 bytes)
//   boxOpen        new Encryption().openUnsigned: ONE crypto_box_seal_open
//                  with the keys converted from the Ed25519 pair
//   eseOpen        new Encryption().open      openUnsigned  .openUnsigned
//   nodeSeal       new Encryption().seal / .sealUnsigned
//   receive        frames packed by Rust, fed to a real receiving api() bus
//   publish        events packed by a real publishing api() bus
//                  (sub.emit(name, value, opts)), and fed back to real
//                  receiving buses in the orders Rust asks for
//
// Where the reference has no API, the reference's own libsodium instance (the
// `sodium` object its encryption.js uses) is called directly:
//   pkToCurve / skToCurve  crypto_sign_ed25519_{pk,sk}_to_curve25519 (the
//                  reference calls them only inside encryption.js's private
//                  toPK / toSK);
//   nodeSeal.box   crypto_box_seal (the reference only ever double-boxes).
import { Buffer } from 'node:buffer'
import {
  loadReference, publisher, receiver, hex, flush, setNow, netStats, strayRejections
} from './reference.mjs'

// Bounded in time by itself as well (the Rust side kills it later still).
const hardTimeout = setTimeout(() => {
  process.stderr.write('interop.mjs: hard timeout (100 s)\n')
  process.exit(3)
}, 100_000)

const ref = await loadReference()
const { Encryption, sodium } = ref

const unhex = s => Buffer.from(s, 'hex')
const u8 = s => new Uint8Array(Buffer.from(s, 'hex'))
const errText = err => String(err?.message ?? err)
const attempt = async f => {
  try {
    return { ok: await f() }
  } catch (err) {
    return { err: errText(err) }
  }
}
const mapAsync = async (list, f) => {
  const out = []
  for (const x of list ?? []) out.push(await f(x))
  return out
}

const chunks = []
for await (const c of process.stdin) chunks.push(c)
const req = JSON.parse(Buffer.concat(chunks).toString())

const keysOf = async seed => Encryption.createKeyPair(await Encryption.createSharedKey(seed))
const seedOf = s => (s.hex !== undefined ? u8(s.hex) : s.text)
// A value as the application would hand it to sub.emit().
const valueOf = v => {
  if (v.hex !== undefined) return unhex(v.hex)
  if (v.text !== undefined) return v.text
  return structuredClone(v.json)
}

const out = { reference: ref.version, sodiumVersion: sodium.sodium_version_string() }

// ---- identity, keys, signatures ---------------------------------------------
out.identity = await mapAsync(req.identity, async s => ({
  keyPair: await attempt(async () => {
    const k = await Encryption.createKeyPair(seedOf(s))
    return { publicKey: hex(k.publicKey), privateKey: hex(k.privateKey) }
  }),
  sharedKey: await attempt(async () => hex(await Encryption.createSharedKey(seedOf(s)))),
  clusterId: await attempt(async () => hex(await Encryption.createClusterId(seedOf(s)))),
  id: await attempt(async () => Encryption.createId(seedOf(s)))
}))
out.pkToCurve = await mapAsync(req.pkToCurve, pk => attempt(() => hex(sodium.crypto_sign_ed25519_pk_to_curve25519(u8(pk)))))
out.skToCurve = await mapAsync(req.skToCurve, sk => attempt(() => hex(sodium.crypto_sign_ed25519_sk_to_curve25519(u8(sk)))))
out.sign64 = await mapAsync(req.sign64, async c => {
  const { privateKey } = await Encryption.createKeyPair(c.signingSeed)
  return hex(Encryption.sign(unhex(c.message), privateKey))
})
out.verify64 = await mapAsync(req.verify64, c => attempt(() => Encryption.verify(unhex(c.message), u8(c.sig), u8(c.publicKey))))
out.verifyDetached = await mapAsync(req.verifyDetached, c => attempt(() =>
  Encryption.verify(Buffer.concat([Buffer.alloc(64), unhex(c.message)]), u8(c.sig), u8(c.publicKey))))

// ---- sealing and opening ----------------------------------------------------
const enc = new Encryption()
out.boxOpen = await mapAsync(req.boxOpen, async c => {
  const keys = await keysOf(c.sharedSeed)
  return attempt(() => hex(enc.openUnsigned(u8(c.sealed), keys)))
})
out.eseOpen = await mapAsync(req.eseOpen, async c => {
  const keys = await keysOf(c.sharedSeed)
  return attempt(() => hex(enc.open(u8(c.sealed), keys)))
})
out.openUnsigned = await mapAsync(req.openUnsigned, async c => {
  const keys = await keysOf(c.sharedSeed)
  return attempt(() => hex(enc.openUnsigned(u8(c.sealed), keys)))
})
out.nodeSeal = await mapAsync(req.nodeSeal, async c => {
  const keys = await keysOf(c.sharedSeed)
  const bytes = c.text !== undefined ? Buffer.from(c.text) : unhex(c.message)
  // a text message is handed over as a string: encryption.js's toUint8Array
  // turns it into UTF-8
  const m = c.text !== undefined ? c.text : bytes
  const curvePk = sodium.crypto_sign_ed25519_pk_to_curve25519(keys.publicKey)
  return {
    box: hex(sodium.crypto_box_seal(new Uint8Array(bytes), curvePk)),
    ese: hex(enc.seal(m, keys)),
    unsigned: hex(enc.sealUnsigned(m, keys))
  }
})

// ---- events, Rust → reference -----------------------------------------------
let receivers = 0
async function deliverTo (c, frames) {
  const sharedKey = await Encryption.createSharedKey(c.sharedSeed)
  const r = await receiver(ref, {
    clusterId: unhex(c.clusterId),
    sharedKey,
    eventName: c.eventName,
    tag: String(receivers++)
  })
  try {
    return await r.deliver(frames.map(unhex))
  } finally {
    r.close()
  }
}

out.receive = await mapAsync(req.receive, async c => {
  setNow(c.now)
  return deliverTo(c, c.frames)
})

// ---- events, reference → Rust -----------------------------------------------
out.publish = await mapAsync(req.publish, async ev => {
  setNow(ev.now)
  const signingKeys = await Encryption.createKeyPair(ev.signingSeed)
  const sharedKey = await Encryption.createSharedKey(ev.sharedSeed)
  const clusterId = unhex(ev.clusterId)
  const pub = await publisher(ref, { clusterId, signingKeys, sharedKey, tag: ev.name })
  let r
  try {
    if (ev.sibling) {
      // another child of the parent in the publisher's cache: the new chain's
      // clock goes above it (_message2packets looks the siblings up there)
      const sib = new ref.PacketPublish({
        clusterId,
        previousId: unhex(ev.sibling.previousId),
        clock: ev.sibling.clock,
        message: Buffer.from('a sibling')
      })
      await pub.peer.cacheInsert(sib)
    }
    const opts = {}
    if (ev.ttl !== undefined) opts.ttl = ev.ttl
    if (ev.parent) opts.packet = { packetId: unhex(ev.parent.packetId), clock: ev.parent.clock }
    if (ev.nextId) opts.nextId = unhex(ev.nextId)
    if (ev.meta !== undefined) opts.meta = structuredClone(ev.meta)
    const returned = await pub.sub.emit(ev.name, valueOf(ev.value), opts)
    await flush()
    if (pub.seen.sealed.length !== 1 || pub.seen.chains.length !== 1 || pub.seen.published.length !== 1) {
      throw new Error(`publish ${ev.name}: expected one seal, one chain, one publish; got ` +
        `${pub.seen.sealed.length}/${pub.seen.chains.length}/${pub.seen.published.length}`)
    }
    const published = pub.seen.published[0]
    r = {
      sealed: hex(pub.seen.sealed[0]),
      frames: pub.seen.chains[0].map(hex),
      plaintext: hex(published.message),
      usr1: hex(published.usr1),
      usr2: hex(published.usr2),
      sig: hex(published.sig),
      returned: (Array.isArray(returned) ? returned : [returned]).map(p => ({
        packetId: hex(p.packetId),
        index: p.index,
        isComposed: p.isComposed === true,
        messageLength: Buffer.from(p.message).length
      }))
    }
  } finally {
    pub.close()
  }
  r.orders = {}
  for (const [label, order] of Object.entries(ev.orders)) {
    if (order.length !== r.frames.length || [...order].sort((a, b) => a - b).some((x, i) => x !== i)) {
      throw new Error(`publish ${ev.name}: order ${label} ${JSON.stringify(order)} is not a permutation of ${r.frames.length} frames`)
    }
    r.orders[label] = await deliverTo({ ...ev, eventName: ev.name }, order.map(i => r.frames[i]))
  }
  return r
})

// ---- the end ------------------------------------------------------------------
clearTimeout(hardTimeout)
await flush(8)
out.net = { ...netStats }
out.strayRejections = strayRejections
// what would still keep the event loop alive (the reference's timers, sockets)
out.activeResources = process.getActiveResourcesInfo().filter(r => r !== 'TTYWrap' && r !== 'PipeWrap')
if (netStats.nonLoopbackSends !== 0) {
  process.stderr.write(`interop.mjs: the reference tried to send ${netStats.nonLoopbackSends} datagram(s) to a non-loopback address (dropped)\n`)
  process.exitCode = 1
}
process.stdout.write(JSON.stringify(out))

// Case inputs for crypto.*, api.pack, nat.*, cache.*, validate.id.
import { Buffer } from 'node:buffer'

const H = b => ({ hex: Buffer.isBuffer(b) || b instanceof Uint8Array ? Buffer.from(b).toString('hex') : b })
const S = s => ({ str: s })
const J = v => ({ json: v })
const Q = (...notes) => ({ quirk: true, note: notes.join(' ') })

// ---------------------------------------------------------------------------
// crypto.*

// Edge public keys (Ed25519 encodings, 32 bytes). libsodium 1.0.18 (bundled by
// the reference) converts the first three to X25519; 1.0.20 refuses them.
const P25519 = 2n ** 255n - 19n
const encodeY = (y, sign = 0) => {
  const b = Buffer.alloc(32)
  for (let i = 0; i < 32; i++) { b[i] = Number(y & 0xffn); y >>= 8n }
  if (sign) b[31] |= 0x80
  return b
}
// P + T, T = (0, -1) the point of order 2: (x, y) + (0, -1) = (-x, -y). P's x
// is never 0 here (P is a real public key), so the sign bit flips.
export function addOrder2Torsion (pk) {
  const b = Buffer.from(pk)
  const sign = b[31] >> 7
  b[31] &= 0x7f
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(b[i])
  return encodeY((P25519 - y) % P25519, 1 - sign)
}
const EDGE_KEYS = {
  // on the curve, order 2·l (y = 9): passes 1.0.18's subgroup check (which
  // only tests that l·P has x = 0); 1.0.20 refuses it
  'y9-canonical': encodeY(9n),
  // the same point, non-canonical encoding y = p + 9 (>= p): 1.0.18 reduces it
  'y9-non-canonical': encodeY(P25519 + 9n),
  // the identity (small order), canonical and non-canonical (y = p + 1):
  // refused by every version
  'identity': encodeY(1n),
  'identity-non-canonical': encodeY(P25519 + 1n)
}
const EDGE_NOTE = {
  'y9-canonical': 'y = 9: a point of order 2l (torsion component of order 2)',
  'y9-non-canonical': 'y = p + 9, a non-canonical encoding (>= p) of the y = 9 point (order 2l)',
  'identity': 'the identity (small order)',
  'identity-non-canonical': 'y = p + 1, a non-canonical encoding of the identity'
}

export async function buildCryptoCases (rng, ref) {
  const cases = []
  const add = (kind, category, name, input, extra = {}) => cases.push({ name: `${kind}/${name}`, category, kind, ...extra, input })
  const { Encryption, sodium } = ref

  // createKeyPair
  add('crypto.createKeyPair', 'spec', 'str-example-shared-secret', { seed: S('example-shared-secret') }, { note: 'spec §4.2' })
  add('crypto.createKeyPair', 'str', 'str-a', { seed: S('a') })
  add('crypto.createKeyPair', 'str', 'str-unicode', { seed: S('ключ 🔑 ' + rng.word()) })
  add('crypto.createKeyPair', 'str', 'str-long', { seed: S(rng.word(20, 20).repeat(50)) })
  for (let i = 0; i < 3; i++) add('crypto.createKeyPair', 'str', `str-random-${i}`, { seed: S(rng.word(5, 30)) })
  add('crypto.createKeyPair', 'bytes', 'bytes-zero-32', { seed: H(Buffer.alloc(32)) })
  add('crypto.createKeyPair', 'spec', 'bytes-example-shared-key', { seed: H('e6d949cf4240eedf0090118cb652bd2d3dfae979f3c6beacf45265f9376dce10') }, { note: 'same key as the string seed (§4.2)' })
  for (let i = 0; i < 3; i++) add('crypto.createKeyPair', 'bytes', `bytes-random-${i}`, { seed: H(rng.bytes(32)) })
  for (const n of [1, 16, 31, 33, 64]) add('crypto.createKeyPair', 'error', `bytes-${n}`, { seed: H(rng.bytes(n)) }, { note: 'invalid seed length' })
  add('crypto.createKeyPair', 'error', 'bytes-0', { seed: H('') }, { note: 'an empty byte array is truthy: invalid seed length' })

  // createSharedKey
  add('crypto.createSharedKey', 'spec', 'example-shared-secret', { seed: S('example-shared-secret') }, { note: 'spec §4.2' })
  add('crypto.createSharedKey', 'str', 'unicode', { seed: S('sübcluster ✓') })
  for (let i = 0; i < 3; i++) add('crypto.createSharedKey', 'str', `random-${i}`, { seed: S(rng.word(4, 40)) })
  add('crypto.createSharedKey', 'bytes', 'bytes-empty', { seed: H('') }, { note: 'an empty byte array is truthy: BLAKE2b-256 of nothing' })
  add('crypto.createSharedKey', 'bytes', 'bytes-32', { seed: H(rng.bytes(32)) })
  add('crypto.createSharedKey', 'bytes', 'bytes-200', { seed: H(rng.bytes(200)) })

  // createClusterId
  add('crypto.createClusterId', 'spec', 'example-cluster', { value: S('example-cluster') }, { note: 'spec §2.8' })
  for (let i = 0; i < 3; i++) add('crypto.createClusterId', 'str', `random-${i}`, { value: S(rng.word(3, 30)) })
  add('crypto.createClusterId', 'str', 'unicode', { value: S('クラスター') })
  add('crypto.createClusterId', 'bytes', 'bytes-empty', { value: H('') }, { note: 'an empty byte array is truthy: SHA-256 of nothing' })
  add('crypto.createClusterId', 'bytes', 'bytes-random', { value: H(rng.bytes(rng.int(1, 64))) })
  add('crypto.createClusterId', 'json', 'json-object', { value: J({ name: rng.word(), n: 1 }) }, { note: 'hashed as its JSON text' })

  // createId
  add('crypto.createId', 'spec', 'abc', { value: S('abc') }, { note: 'spec §4.2' })
  add('crypto.createId', 'spec', 'example-peer', { value: S('example-peer') }, { note: 'spec §2.9' })
  for (let i = 0; i < 2; i++) add('crypto.createId', 'str', `random-${i}`, { value: S(rng.word(3, 30)) })
  add('crypto.createId', 'bytes', 'bytes-32', { value: H(rng.bytes(32)) })
  add('crypto.createId', 'json', 'json-array', { value: J([1, 2, 3]) })

  // sha256
  const sv = rng.word(3, 20)
  add('crypto.sha256', 'str', 'str-hex', { value: S(sv) })
  add('crypto.sha256', 'str', 'str-bytes', { value: S(sv), opts: { bytes: true } })
  add('crypto.sha256', 'str', 'greeting-bytes', { value: S('greeting'), opts: { bytes: true } }, { note: 'api usr1 for "greeting" (Appendix A)' })
  add('crypto.sha256', 'str', 'unicode', { value: S('naïve ☃ 😀') })
  add('crypto.sha256', 'str', 'opts-bytes-false', { value: S(sv), opts: { bytes: false } })
  add('crypto.sha256', 'bytes', 'bytes-hex', { value: H(rng.bytes(rng.int(1, 100))) })
  add('crypto.sha256', 'bytes', 'bytes-bytes', { value: H(rng.bytes(rng.int(1, 100))), opts: { bytes: true } })
  add('crypto.sha256', 'bytes', 'bytes-empty', { value: H(''), opts: { bytes: true } }, { note: 'an empty byte array is truthy: SHA-256 of nothing' })
  add('crypto.sha256', 'json', 'json-object', { value: J({ b: 2, a: [1, { c: null }] }) }, { note: 'hashed as JSON text, insertion order' })
  add('crypto.sha256', 'json', 'json-object-bytes', { value: J({ [rng.word()]: rng.word() }), opts: { bytes: true } })
  add('crypto.sha256', 'json', 'json-null', { value: J(null) }, { note: 'null is typeof object: hashed as the text "null", not random (node branch)' })
  add('crypto.sha256', 'json', 'json-string', { value: J('abc') }, { note: 'a JSON string value is hashed as the raw string' })
  // opts.encoding: node's digest(encoding); with opts.bytes the bytes come back through Buffer.from(text, encoding)
  add('crypto.sha256', 'encoding', 'encoding-hex', { value: S(sv), opts: { encoding: 'hex' } })
  add('crypto.sha256', 'encoding', 'encoding-base64', { value: S(sv), opts: { encoding: 'base64' } })
  add('crypto.sha256', 'encoding', 'encoding-base64url', { value: H(rng.bytes(rng.int(1, 64))), opts: { encoding: 'base64url' } })
  add('crypto.sha256', 'encoding', 'encoding-latin1', { value: S(rng.word(3, 20)), opts: { encoding: 'latin1' } }, { note: 'one character U+0000..U+00FF per digest byte' })
  add('crypto.sha256', 'encoding', 'encoding-base64-json', { value: J({ [rng.word()]: rng.int(0, 1000) }), opts: { encoding: 'base64' } })
  add('crypto.sha256', 'encoding', 'encoding-base64-bytes', { value: S(sv), opts: { encoding: 'base64', bytes: true } }, { note: 'bytes: the digest text decoded again, so the same 32 bytes' })

  // sign / verify
  const kpA = await Encryption.createKeyPair(rng.word(5, 12))
  const kpB = await Encryption.createKeyPair(rng.bytes(32))
  const msgs = {}
  for (const n of [0, 1, 63, 64, 65, 100, 1000]) {
    msgs[n] = rng.bytes(n)
    add('crypto.sign', 'sign', `len-${n}-keyA`, { message: H(msgs[n]), privateKey: H(kpA.privateKey) }, n <= 64 ? Q('§10.21 signs message[64..], empty here') : {})
  }
  add('crypto.sign', 'sign', 'len-65-keyB', { message: H(msgs[65]), privateKey: H(kpB.privateKey) })
  add('crypto.sign', 'sign', 'len-200-keyB', { message: H(rng.bytes(200)), privateKey: H(kpB.privateKey) })
  const sig = (m, kp) => Buffer.from(Encryption.sign(m, kp.privateKey))
  const long = rng.bytes(150)
  const longSig = sig(long, kpA)
  const flipAt = (b, i) => { const c = Buffer.from(b); c[i] ^= 0x5a; return c }
  add('crypto.verify', 'verify', 'valid', { message: H(long), sig: H(longSig), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'tamper-byte-0', { message: H(flipAt(long, 0)), sig: H(longSig), publicKey: H(kpA.publicKey) }, Q('§10.21 the first 64 bytes are not signed'))
  add('crypto.verify', 'verify', 'tamper-byte-63', { message: H(flipAt(long, 63)), sig: H(longSig), publicKey: H(kpA.publicKey) }, Q('§10.21'))
  add('crypto.verify', 'verify', 'tamper-byte-64', { message: H(flipAt(long, 64)), sig: H(longSig), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'tamper-last-byte', { message: H(flipAt(long, long.length - 1)), sig: H(longSig), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'tamper-sig', { message: H(long), sig: H(flipAt(longSig, 10)), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'wrong-key', { message: H(long), sig: H(longSig), publicKey: H(kpB.publicKey) })
  const shortSig = sig(msgs[1], kpA)
  add('crypto.verify', 'verify', 'short-message-valid', { message: H(msgs[1]), sig: H(shortSig), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'short-message-replayed', { message: H(msgs[63]), sig: H(shortSig), publicKey: H(kpA.publicKey) }, Q('§10.21 one signature for every message of 64 bytes or less'))
  add('crypto.verify', 'verify', 'empty-message-replayed', { message: H(''), sig: H(shortSig), publicKey: H(kpA.publicKey) }, Q('§10.21'))
  add('crypto.verify', 'verify', 'sig-63-bytes', { message: H(long), sig: H(longSig.subarray(0, 63)), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'sig-65-bytes', { message: H(long), sig: H(Buffer.concat([longSig, Buffer.from([0])])), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'sig-empty', { message: H(long), sig: H(''), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'verify', 'sig-zero', { message: H(long), sig: H(Buffer.alloc(64)), publicKey: H(kpA.publicKey) })
  add('crypto.verify', 'error', 'publicKey-31-bytes', { message: H(long), sig: H(longSig), publicKey: H(Buffer.from(kpA.publicKey).subarray(0, 31)) }, { note: 'throws' })
  add('crypto.verify', 'error', 'publicKey-64-bytes', { message: H(long), sig: H(longSig), publicKey: H(kpA.privateKey) }, { note: 'throws' })
  // Edge public keys (libsodium's verify: canonical encoding, not small
  // order, but no subgroup check; cofactorless). No PRNG draws here.
  for (const [name, pkEdge] of Object.entries(EDGE_KEYS)) {
    add('crypto.verify', 'edge-key', `publicKey-${name}`, { message: H(long), sig: H(longSig), publicKey: H(pkEdge) }, { note: `${EDGE_NOTE[name]}: not verified` })
  }
  // A + T (T of order 2), signed by a secret key whose public half is A + T
  // (libsodium hashes the public half it is given). Cofactorless: the
  // signature verifies iff the challenge scalar is even, so one message of
  // each outcome is searched for (deterministically).
  {
    const pkT = addOrder2Torsion(kpA.publicKey)
    const skT = Buffer.concat([Buffer.from(kpA.privateKey).subarray(0, 32), pkT])
    const found = {}
    for (let i = 0; i < 64 && !(found.true && found.false); i++) {
      const m = Buffer.concat([Buffer.alloc(64), Buffer.from(`torsion ${i}`)])
      const s = Buffer.from(Encryption.sign(m, skT))
      const ok = Encryption.verify(m, s, pkT) === true
      if (!found[ok]) found[ok] = { m, s }
    }
    for (const ok of [true, false]) {
      if (!found[ok]) throw new Error(`crypto.verify edge: no ${ok ? 'verifying' : 'failing'} signature for A + T found`)
      add('crypto.verify', 'edge-key', `publicKey-order2-torsion-${ok ? 'verified' : 'not-verified'}`, { message: H(found[ok].m), sig: H(found[ok].s), publicKey: H(pkT) }, {
        note: `publicKey = keyA + T (T of order 2, mixed order), sig = crypto_sign_detached(message[64..], seedA || (keyA + T)); libsodium has no subgroup check and verifies cofactorless: ${ok ? 'verified (the challenge is even)' : 'not verified (the challenge is odd; a cofactored check would accept)'}`
      })
    }
  }

  // open / openUnsigned
  const skSeed = rng.word(6, 14)
  const kp = await Encryption.createKeyPair(await Encryption.createSharedKey(skSeed))
  const other = await Encryption.createKeyPair(await Encryption.createSharedKey(skSeed + '-other'))
  const keys = k => ({ publicKey: H(k.publicKey), privateKey: H(k.privateKey) })
  const enc = new Encryption()
  const pk = sodium.crypto_sign_ed25519_pk_to_curve25519(kp.publicKey)
  const how = `sharedKey = createSharedKey(${JSON.stringify(skSeed)}), keys = createKeyPair(sharedKey)`
  const sealOf = pt => Buffer.from(enc.seal(new Uint8Array(pt), kp))
  for (const n of [0, 1, 64, 864, 865, 2000]) {
    const pt = rng.bytes(n)
    add('crypto.open', 'open', `seal-${n}-bytes`, { ciphertext: H(sealOf(pt)), keys: keys(kp), provenance: `seal(${n} random bytes); ${how}` })
  }
  const pt5 = Buffer.from('hello')
  const ct5 = sealOf(pt5)
  add('crypto.open', 'open', 'seal-hello', { ciphertext: H(ct5), keys: keys(kp), provenance: `seal("hello"); ${how}` })
  add('crypto.open', 'error', 'wrong-keys', { ciphertext: H(ct5), keys: keys(other), provenance: `seal("hello") with the keys of ${JSON.stringify(skSeed)}, opened with the keys of ${JSON.stringify(skSeed + '-other')}` })
  for (const pos of [0, 40, ct5.length - 1]) {
    const t = Buffer.from(ct5); t[pos] ^= 1
    add('crypto.open', 'error', `tampered-byte-${pos}`, { ciphertext: H(t), keys: keys(kp), provenance: `seal("hello") with byte ${pos} flipped; ${how}` })
  }
  add('crypto.open', 'error', 'truncated-by-1', { ciphertext: H(ct5.subarray(0, ct5.length - 1)), keys: keys(kp), provenance: `seal("hello") without its last byte; ${how}` })
  add('crypto.open', 'error', 'truncated-to-40', { ciphertext: H(ct5.subarray(0, 40)), keys: keys(kp), provenance: `first 40 bytes of seal("hello"); ${how}` })
  add('crypto.open', 'error', 'empty', { ciphertext: H(''), keys: keys(kp), provenance: 'empty ciphertext' })
  const malformed = Buffer.from(sodium.crypto_box_seal(new Uint8Array(rng.bytes(64)), pk))
  add('crypto.open', 'error', 'EMALFORMED-64', { ciphertext: H(malformed), keys: keys(kp), provenance: `crypto_box_seal(64 random bytes, X(publicKey)): the inner message has no room for sig || c1; ${how}` })
  const c1 = Buffer.from(sodium.crypto_box_seal(new Uint8Array(pt5), pk))
  const badSig = Buffer.from(sodium.crypto_sign_detached(c1, other.privateKey))
  const notVerified = Buffer.from(sodium.crypto_box_seal(new Uint8Array(Buffer.concat([badSig, c1])), pk))
  add('crypto.open', 'error', 'ENOTVERIFIED-other-signer', { ciphertext: H(notVerified), keys: keys(kp), provenance: `crypto_box_seal(sign(c1, other key) || c1, X(publicKey)), c1 = crypto_box_seal("hello", X(publicKey)); ${how}` })
  const su = Buffer.from(enc.sealUnsigned(new Uint8Array(pt5), kp))
  add('crypto.open', 'error', 'sealUnsigned-opened-with-open', { ciphertext: H(su), keys: keys(kp), provenance: `sealUnsigned("hello"); ${how}` })
  // Edge public keys with the right private key. The reference converts
  // keys.publicKey to X25519 (toPK): libsodium 1.0.18 converts the order-2l
  // keys (1.0.20 would not; toPK then goes on with an empty key), and the box
  // then fails to open (its nonce hashes the recipient's X25519 key).
  const kpT = addOrder2Torsion(kp.publicKey)
  add('crypto.open', 'edge-key', 'publicKey-order2-torsion', { ciphertext: H(ct5), keys: { publicKey: H(kpT), privateKey: H(kp.privateKey) }, provenance: `seal("hello"); keys.publicKey = publicKey + T (T of order 2): converted by libsodium 1.0.18 to another X25519 key; ${how}` })
  for (const [name, pkEdge] of Object.entries(EDGE_KEYS)) {
    add('crypto.open', 'edge-key', `publicKey-${name}`, { ciphertext: H(ct5), keys: { publicKey: H(pkEdge), privateKey: H(kp.privateKey) }, provenance: `seal("hello"); keys.publicKey: ${EDGE_NOTE[name]}; ${how}` })
  }
  add('crypto.open', 'error', 'publicKey-31-bytes', { ciphertext: H(ct5), keys: { publicKey: H(Buffer.from(kp.publicKey).subarray(0, 31)), privateKey: H(kp.privateKey) }, provenance: `seal("hello"); a 31-byte public key cannot be converted (the reference goes on with an empty key); ${how}` })

  for (const n of [0, 5, 100]) {
    const pt = n === 5 ? pt5 : rng.bytes(n)
    add('crypto.openUnsigned', 'quirk', `sealUnsigned-${n}-bytes`, { ciphertext: H(Buffer.from(enc.sealUnsigned(new Uint8Array(pt), kp))), keys: keys(kp), provenance: `sealUnsigned(${n} bytes${n === 5 ? ' "hello"' : ''}); ${how}` }, Q('§10.20 §4.5 openUnsigned removes one of the two layers: the result is the inner sealed box (random), not the plaintext'))
  }
  const single = Buffer.from(sodium.crypto_box_seal(new Uint8Array(pt5), pk))
  add('crypto.openUnsigned', 'open', 'single-box', { ciphertext: H(single), keys: keys(kp), provenance: `crypto_box_seal("hello", X(publicKey)); ${how}` })
  add('crypto.openUnsigned', 'open', 'single-box-empty', { ciphertext: H(Buffer.from(sodium.crypto_box_seal(new Uint8Array(0), pk))), keys: keys(kp), provenance: `crypto_box_seal(empty, X(publicKey)); ${how}` })
  add('crypto.openUnsigned', 'open', 'seal-opened-unsigned', { ciphertext: H(ct5), keys: keys(kp), provenance: `seal("hello"): the result is sig || inner box; ${how}` })
  { const t = Buffer.from(single); t[t.length - 3] ^= 0x80; add('crypto.openUnsigned', 'error', 'tampered', { ciphertext: H(t), keys: keys(kp), provenance: `crypto_box_seal("hello") with a flipped bit; ${how}` }) }
  add('crypto.openUnsigned', 'error', 'wrong-keys', { ciphertext: H(single), keys: keys(other), provenance: `crypto_box_seal("hello") for ${JSON.stringify(skSeed)}, opened with ${JSON.stringify(skSeed + '-other')}` })
  add('crypto.openUnsigned', 'edge-key', 'publicKey-order2-torsion', { ciphertext: H(single), keys: { publicKey: H(kpT), privateKey: H(kp.privateKey) }, provenance: `crypto_box_seal("hello", X(publicKey)); keys.publicKey = publicKey + T (T of order 2): converted by libsodium 1.0.18 to another X25519 key; ${how}` })
  add('crypto.openUnsigned', 'edge-key', 'publicKey-y9-non-canonical', { ciphertext: H(single), keys: { publicKey: H(EDGE_KEYS['y9-non-canonical']), privateKey: H(kp.privateKey) }, provenance: `crypto_box_seal("hello", X(publicKey)); keys.publicKey: ${EDGE_NOTE['y9-non-canonical']}; ${how}` })
  add('crypto.openUnsigned', 'error', 'too-short', { ciphertext: H(single.subarray(0, 47)), keys: keys(kp), provenance: 'first 47 bytes of a sealed box (shorter than the 48-byte overhead)' })
  return cases
}

// ---------------------------------------------------------------------------
// api.pack

export function buildApiCases (rng) {
  const cases = []
  const add = (name, input, extra = {}) => cases.push({ name: `api.pack/${name}`, category: 'pack', kind: 'api.pack', ...extra, input })
  const base = () => ({ signingSeed: 'signer-' + rng.word(), clusterIdSeed: 'cluster-' + rng.word(), sharedKeySeed: 'subcluster-' + rng.word() })
  const ev = () => rng.pick(['greeting', 'chat', 'update', rng.word()])
  add('bytes-0', { ...base(), eventName: ev(), value: H(''), opts: {} }, { note: 'empty payload: sealed is 160 bytes; sig signs nothing (§10.21)' })
  add('str-5-hello', { ...base(), eventName: 'greeting', value: S('hello'), opts: {} })
  add('bytes-864', { ...base(), eventName: ev(), value: H(rng.bytes(864)), opts: {} }, { note: 'largest single packet (sealed 1024)' })
  add('bytes-865', { ...base(), eventName: ev(), value: H(rng.bytes(865)), opts: {} }, { note: 'smallest chain: head + 1024 + 1' })
  add('bytes-2000', { ...base(), eventName: ev(), value: H(rng.bytes(2000)), opts: {} })
  add('bytes-5000', { ...base(), eventName: ev(), value: H(rng.bytes(5000)), opts: {} })
  add('bytes-5000-ttl', { ...base(), eventName: ev(), value: H(rng.bytes(5000)), opts: { ttl: rng.int(1000, 3600000) } })
  add('object', { ...base(), eventName: ev(), value: J({ text: rng.word(), n: rng.int(0, 1e6), list: [true, null, 'x'] }), opts: {} })
  add('object-ttl', { ...base(), eventName: ev(), value: J({ [rng.word()]: rng.word() }), opts: { ttl: rng.int(1, 60000) } })
  add('array', { ...base(), eventName: ev(), value: J([1, 2, 3, rng.word()]), opts: {} })
  add('string', { ...base(), eventName: ev(), value: S('héllo wörld ' + rng.word()), opts: {} })
  add('string-ttl-over-max', { ...base(), eventName: ev(), value: S(rng.word()), opts: { ttl: 1e9 } }, { note: 'ttl capped at 21600000' })
  add('string-ttl-0', { ...base(), eventName: ev(), value: S(rng.word()), opts: { ttl: 0 } }, { note: 'ttl 0 is not capped and goes on the wire as 0' })
  add('unicode-event-name', { ...base(), eventName: 'événement ' + rng.word(), value: H(rng.bytes(rng.int(1, 300))), opts: {} })
  add('random-size', { ...base(), eventName: ev(), value: H(rng.bytes(rng.int(1, 4000))), opts: rng.bool() ? { ttl: rng.int(1, 21600000) } : {} })
  add('object-large', { ...base(), eventName: ev(), value: J({ blob: rng.hex(600) }), opts: {} }, { note: 'JSON over 864 bytes: split' })
  // chained on a previous packet (opts.packet): the head's previousId is its packetId, the clock its clock + 1
  const parent = () => ({ packetId: H(rng.bytes(32)), clock: rng.int(0, 100000) })
  add('chained-str', { ...base(), eventName: ev(), value: S(rng.word()), opts: { packet: parent() } }, { note: '§7.2 previousId and clock follow opts.packet' })
  add('chained-clock-0', { ...base(), eventName: ev(), value: H(rng.bytes(rng.int(1, 200))), opts: { packet: { packetId: H(rng.bytes(32)), clock: 0 } } }, { note: '§7.2 clock 0 || 0, then + 1' })
  add('chained-chain', { ...base(), eventName: ev(), value: H(rng.bytes(rng.int(900, 3000))), opts: { packet: parent(), ttl: rng.int(1000, 60000) } }, { note: '§7.2 a chain after a packet: the head takes previousId, fragments point at the head' })
  // pack() throws before anything is published
  add('error-value-number', { ...base(), eventName: ev(), value: J(rng.int(1, 1000)), opts: {} }, { note: 'Buffer.from(number) throws' })
  add('error-value-boolean', { ...base(), eventName: ev(), value: J(true), opts: {} }, { note: 'Buffer.from(true) throws' })
  add('error-event-name-empty', { ...base(), eventName: '', value: S(rng.word()), opts: {} }, { note: 'event name too short' })
  add('error-event-name-number', { ...base(), eventName: rng.int(1, 1000), value: S(rng.word()), opts: {} }, { note: 'event name must be a string' })
  return cases
}

// ---------------------------------------------------------------------------
// nat.*

export function buildNatCases (rng) {
  const cases = []
  const fixed = [0, 1, 3, 4, 5, 7, 12, 13, 15, 28, 29, 31, null]
  const odd = rng.sample([2, 6, 30, 63, 255, -1, '31', '7', 31.5, true], 2)
  const values = [...fixed, ...odd]
  const nm = v => JSON.stringify(v)
  for (const a of values) {
    for (const b of values) {
      cases.push({ name: `nat.connectionStrategy/${nm(a)}-${nm(b)}`, category: fixed.includes(a) && fixed.includes(b) ? 'table' : 'odd', kind: 'nat.connectionStrategy', input: { a, b } })
    }
  }
  const canonical = new Set([5, 7, 13, 15, 29, 31])
  const extra = [-1, 5.5, 37, 255, 2 ** 31, 2 ** 31 + 5, 2 ** 32 + 7, 1e10, -5, '7', '31', 'abc', '', null, true, false, rng.int(32, 1000), rng.int(-1000, -2)]
  const all = [...Array.from({ length: 32 }, (_, i) => i), ...extra]
  for (const n of all) {
    const c = { name: `nat.classify/${nm(n)}`, category: typeof n === 'number' && n >= 0 && n < 32 && Number.isInteger(n) ? 'bits' : 'odd', kind: 'nat.classify', input: { natType: n } }
    // NAT.isValid accepts any value whose bits 0 and 2 are set after ToInt32
    if (!canonical.has(n) && ((n & 1) === 1 && (n & 4) === 4)) Object.assign(c, Q('§10.17 NAT.isValid accepts a value that is not a NAT type'))
    cases.push(c)
  }
  return cases
}

// ---------------------------------------------------------------------------
// cache.summary / cache.decodeSummary

export function buildCacheCases (rng) {
  const cases = []
  const addS = (name, packetIds, prefix, extra = {}) => cases.push({ name: `cache.summary/${name}`, category: 'summary', kind: 'cache.summary', ...extra, input: { packetIds, prefix } })
  const id = () => rng.hex(32)
  const spec = ['a0' + '0'.repeat(62), 'a1' + '1'.repeat(62), '3f' + 'f'.repeat(62)]
  addS('spec-root', spec, '', { note: 'spec §7.8' })
  addS('spec-prefix-a', spec, 'a', { note: 'spec §7.8' })
  addS('spec-prefix-a1f', spec, 'a1f', { note: 'spec §7.8: no keys' })
  addS('empty-root', [], '')
  addS('empty-prefix-3', [], rng.hex(2).slice(0, 3))
  addS('one-key-root', [id()], '')
  for (let i = 0; i < 8; i++) {
    const keys = Array.from({ length: rng.int(1, 40) }, id)
    const from = rng.pick(keys)
    const plen = rng.int(0, 4)
    addS(`random-${i}-prefix-${plen}`, keys, from.slice(0, plen))
  }
  for (let i = 0; i < 4; i++) {
    const stem = rng.hex(2).slice(0, rng.int(1, 4))
    const keys = Array.from({ length: rng.int(5, 30) }, () => (stem + rng.hex(32)).slice(0, 64))
    for (let j = 0; j < 5; j++) keys.push(id())
    for (let plen = 0; plen <= Math.min(stem.length + 1, 5); plen += (i % 2 ? 1 : 2)) {
      addS(`shared-stem-${i}-prefix-${plen}`, rng.shuffle(keys), (stem + rng.hex(1)).slice(0, plen))
    }
  }
  { const keys = Array.from({ length: 6 }, id); addS('duplicates', [...keys, keys[0], keys[3], keys[3]], '', { note: 'a key that is present is not inserted again' }) }
  { const keys = Array.from({ length: 10 }, id); addS('no-match-prefix', keys, 'fffff'.slice(0, 5), { note: 'probably no key matches' }) }
  { const keys = Array.from({ length: 10 }, id); addS('odd-prefix-5', keys, keys[2].slice(0, 5)) }
  { const keys = Array.from({ length: 4 }, id); addS('prefix-64-full-key', keys, keys[1], { note: 'the key has no digit at position 64: no bucket' }) }
  { const keys = Array.from({ length: 4 }, id); addS('prefix-63', keys, keys[1].slice(0, 63)) }
  addS('short-keys', ['00', '0a1b', rng.hex(4), rng.hex(8), rng.hex(16), id()], '', { note: 'packetIds shorter than 32 bytes are legal on the wire' })
  addS('short-key-equal-to-prefix', ['ab', 'ab' + rng.hex(31), 'abc' + rng.hex(2)], 'ab')
  { const keys = Array.from({ length: 200 }, id); addS('many-keys', keys, '') }
  { const keys = Array.from({ length: 200 }, id); addS('many-keys-prefix-1', keys, keys[0].slice(0, 1)) }
  { const keys = Array.from({ length: 16 }, (_, i) => i.toString(16) + rng.hex(32).slice(1)); addS('every-bucket', keys, '') }

  const addD = (name, hex, extra = {}) => cases.push({ name: `cache.decodeSummary/${name}`, category: 'decode', kind: 'cache.decodeSummary', ...extra, input: { hex } })
  const q78 = Q('§7.8 bucket indexes are not range-checked / hashes may be short')
  addD('spec-root', '00' + '45a517e2e9b28317ba58e28dc102c09d47251907' + '03' + '9867568ba18565232d152adafe1b344fcc25817a' + '0a' + '0ef85c4918d32382ef5334351fe974c7d0dc2305', { note: 'spec §7.8' })
  addD('spec-prefix-a', '010a' + 'ea6b8144fd2edc2aa382fa5963b7aa62321f4128' + '00' + '6f80125d6bb2bfd81a318e798477c95a27ab2bcc' + '01' + 'b0ea9520e6b044f09171013d45707a5dbefc15c9', { note: 'spec §7.8' })
  addD('spec-prefix-a1f', '030a1f' + 'da39a3ee5e6b4b0d3255bfef95601890afd80709', { note: 'spec §7.8' })
  addD('one-byte-00', '00', Q('§7.8 a 1-byte 00 decodes to an empty prefix and hash'))
  addD('empty', '', { note: 'throws' })
  addD('short-hash-5', '00' + rng.hex(5), q78)
  addD('short-hash-19', '00' + rng.hex(19), q78)
  addD('hash-only', '00' + rng.hex(20))
  addD('short-bucket-hash', '00' + rng.hex(20) + '05' + rng.hex(7), q78)
  addD('bucket-index-only', '00' + rng.hex(20) + '07', Q('§7.8 a final index byte gives an empty-string bucket'))
  addD('bucket-index-16', '00' + rng.hex(20) + '10' + rng.hex(20), Q('§7.8 index 16: the bucket array grows'))
  addD('bucket-index-255', '00' + rng.hex(20) + 'ff' + rng.hex(20), Q('§7.8 index 255'))
  addD('bucket-index-repeated', '00' + rng.hex(20) + '03' + rng.hex(20) + '03' + rng.hex(20), { note: 'the later bucket wins' })
  addD('buckets-out-of-order', '00' + rng.hex(20) + '0c' + rng.hex(20) + '02' + rng.hex(20))
  addD('prefix-odd-3', '03' + rng.hex(2) + rng.hex(20))
  addD('prefix-odd-1-high-nibble', '01' + 'f7' + rng.hex(20), { note: 'only the last digit is kept' })
  addD('prefix-4', '04' + rng.hex(2) + rng.hex(20) + '00' + rng.hex(20))
  addD('prefix-64', '40' + rng.hex(32) + rng.hex(20))
  addD('prefix-len-255', 'ff' + rng.hex(40), Q('§7.8 prefix longer than the data'))
  addD('prefix-len-longer-than-data', '0a' + rng.hex(2))
  addD('prefix-len-0-extra', '00' + rng.hex(20) + '0f' + rng.hex(20) + '00' + rng.hex(20))
  addD('all-16-buckets', '00' + rng.hex(20) + Array.from({ length: 16 }, (_, i) => i.toString(16).padStart(2, '0') + rng.hex(20)).join(''))
  for (let i = 0; i < 14; i++) {
    const n = rng.pick([1, 2, 3, 10, 21, 22, 42, 43, 63, rng.int(1, 400)])
    addD(`random-${i}-len-${n}`, rng.hex(n), {})
  }
  return cases
}

// ---------------------------------------------------------------------------
// validate.id

export function buildValidateCases (rng) {
  const cases = []
  const add = (fn, name, value, extra = {}) => cases.push({ name: `validate.id/${fn}/${name}`, category: 'id', kind: 'validate.id', ...extra, input: { fn, value } })
  const upper = Q('§10.18 upper case accepted')
  const lens = { isValidPeerId: [64], isValidReflectionId: [12], isValidPingId: [12, 13] }
  for (const fn of ['isValidPeerId', 'isValidReflectionId', 'isValidPingId']) {
    const [n, m] = [lens[fn][0], lens[fn][lens[fn].length - 1]]
    const h = len => rng.hex(Math.ceil(len / 2)).slice(0, len)
    for (const len of lens[fn]) add(fn, `exact-${len}`, h(len))
    add(fn, `exact-${n}-digits-only`, '1234567890'.repeat(7).slice(0, n))
    add(fn, `minus-1-${n - 1}`, h(n - 1))
    add(fn, `plus-1-${m + 1}`, h(m + 1))
    add(fn, 'double-length', h(n * 2))
    add(fn, 'empty', '')
    add(fn, 'uppercase', h(n).toUpperCase().replace(/^[0-9]/, 'A'), upper)
    add(fn, 'mixed-case', h(n).split('').map((c, i) => i % 2 ? c.toUpperCase() : c).join('').replace(/^(.)./, '$1F'), upper)
    add(fn, 'non-hex-g', 'g' + h(n - 1))
    add(fn, 'non-hex-space', h(n - 1) + ' ')
    add(fn, 'trailing-newline', h(n) + '\n')
    add(fn, 'leading-0x', '0x' + h(n - 2))
    add(fn, 'fullwidth-digits', '０'.repeat(n))
    add(fn, 'unicode-e-acute', 'é' + h(n - 1))
    add(fn, 'number', fn === 'isValidPeerId' ? 1234 : 123456789012)
    add(fn, 'null', null)
    add(fn, 'boolean', true)
    add(fn, 'array', [h(n)])
    add(fn, 'object', { id: h(n) })
    add(fn, `random-${n}`, h(n))
    add(fn, `random-odd-len`, h(rng.pick([1, 3, 11, 15, 33, 63, 65])))
    add(fn, 'nul-char-inside', h(n - 1) + '\u0000')
    add(fn, 'leading-tab', '\t' + h(n - 1))
    add(fn, 'zero-width-space', h(n - 1) + '\u200b')
    add(fn, 'string-undefined', 'undefined')
  }
  add('isValidPeerId', 'odd-length-63-plus-g', rng.hex(32).slice(0, 63) + 'G')
  add('isValidPingId', 'len-13-upper', rng.hex(7).slice(0, 13).toUpperCase(), upper)
  add('isValidReflectionId', 'len-13', rng.hex(7).slice(0, 13))
  add('isValidReflectionId', 'pingId-style-12-via-padStart', rng.hex(3).padStart(12, '0'), { note: 'how the reference makes ids: randomBytes(6).toString("hex").padStart(12, "0")' })
  return cases
}

export function labelApiQuirk (c) {
  if (c.expected.fragments > 0) {
    c.quirk = true
    const n = '§10.12 reassembled ids: the publisher returns SHA-256(00 || sealed), a receiver delivers SHA-256(head packetId || sealed) (or SHA-256(00 || sealed) if the head arrives last)'
    c.note = c.note ? `${c.note}; ${n}` : n
  }
}

// Shim for `../crypto.js` as imported by the reference's latica/*.js.
// Written for streamrelay's vector generator (not part of the reference).
//
// libsodium: the one the reference BUNDLES (external/libsodium/index.js,
// libsodium 1.0.18), which setup.sh copies next to this file as
// ./crypto/sodium.js and ./external/libsodium/index.js. It is loaded the way
// the socket runtime's crypto.js loads it: `import('./crypto/sodium.js')`,
// `.default.libsodium`, `ready`, then `Object.assign(sodium, libsodium)`.
// (Not npm libsodium-wrappers: its libsodium 1.0.20 refuses some Ed25519 ->
// X25519 conversions that 1.0.18 performs.)
//
// Exports what latica/ uses: sodium, randomBytes, plus ready, getRandomValues
// and createDigest(algorithm, buf) -> Buffer (webcrypto, as the runtime does).
//
// Determinism: every random source draws from one seeded generator.
//   * randomBytes(n) and getRandomValues(buf);
//   * libsodium's own randomness (randombytes_buf, crypto_box_seal's
//     ephemeral keys, crypto_box_keypair, ...). The bundled emscripten build
//     gets every random 32-bit word from `getRandomValue()`, which it sets up
//     on first use: `(window || self).crypto.getRandomValues` when that global
//     exists (not under node), else `require('crypto').randomBytes(4)`, where
//     `require('crypto')` is the namespace of `import('node:crypto')` (the
//     bundle's CommonJS emulation). That named export is replaced below, and
//     node:module's syncBuiltinESMExports() makes the namespace see it;
//     libsodium reads it at every call. After `ready` the shim checks that
//     libsodium really draws from the seeded generator (and fails otherwise);
//   * Math.random (the reference uses it for ports and peer shuffles).
// Call __seedRandom(seed) before generating.
import nodeCrypto, { webcrypto } from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { Buffer } from './buffer.js'
import { toBuffer } from './util.js'

// ---- seeded generator: SHA-256 in counter mode ------------------------------
let rngKey = nodeCrypto.createHash('sha256').update('unseeded').digest()
let rngCounter = 0
let rngPool = Buffer.alloc(0)
export let randomDraws = 0

export function __seedRandom (seed) {
  rngKey = nodeCrypto.createHash('sha256').update('latica-ref-random:' + String(seed)).digest()
  rngCounter = 0
  rngPool = Buffer.alloc(0)
  randomDraws = 0
}

export function __randomBytes (n) {
  randomDraws += n
  while (rngPool.length < n) {
    const block = nodeCrypto.createHash('sha256')
      .update(rngKey)
      .update(String(rngCounter++))
      .digest()
    rngPool = Buffer.concat([rngPool, block])
  }
  const out = Buffer.from(rngPool.subarray(0, n))
  rngPool = rngPool.subarray(n)
  return out
}

// Must happen before the bundled libsodium is imported (it draws random words
// while it initialises).
const originalNodeRandomBytes = nodeCrypto.randomBytes
nodeCrypto.randomBytes = function (size, cb) {
  if (typeof cb === 'function') return originalNodeRandomBytes.call(this, size, cb)
  return __randomBytes(size)
}
syncBuiltinESMExports()

Math.random = function () {
  const b = __randomBytes(6)
  return b.readUIntBE(0, 6) / 2 ** 48
}

// ---- exports used by latica/ -------------------------------------------------
// As the runtime's crypto.js does it (crypto.js of @socketsupply/socket).
const sodium = {
  ready: new Promise((resolve, reject) => {
    import('./crypto/sodium.js')
      .then((module) => module.default.libsodium)
      .then((libsodium) => libsodium.ready.then(() => libsodium))
      .then((libsodium) => Object.assign(sodium, libsodium))
      .then(checkSeededLibsodium)
      .then(resolve, reject)
  })
}

// libsodium must take its randomness from the seeded generator, or sealed
// boxes would not be reproducible. Draws 8 bytes (before any __seedRandom).
function checkSeededLibsodium (s) {
  const before = randomDraws
  s.randombytes_buf(8)
  if (randomDraws === before) {
    throw new Error('crypto shim: the bundled libsodium does not draw its randomness from the seeded generator')
  }
  return s
}

export { sodium, webcrypto }
export const ready = sodium.ready

export function randomBytes (size) {
  if (size < 0 || !Number.isInteger(size)) {
    throw Object.assign(new RangeError(`The value of "size" is out of range. Received ${size}`), {
      code: 'ERR_OUT_OF_RANGE'
    })
  }
  return toBuffer(new Uint8Array(__randomBytes(size)))
}

export function getRandomValues (buffer) {
  const bytes = __randomBytes(buffer.byteLength)
  new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).set(bytes)
  return buffer
}

export async function createDigest (algorithm, buf) {
  return Buffer.from(await webcrypto.subtle.digest(algorithm, buf))
}

export default { sodium, ready, webcrypto, randomBytes, getRandomValues, createDigest }

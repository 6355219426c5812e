// Shim for `../crypto.js` as imported by the reference's latica/*.js.
// Written for streamrelay's vector generator (not part of the reference).
//
// Exports what latica/ uses: randomBytes, sodium (libsodium-wrappers, copied
// onto a plain object after `ready`, as the socket runtime does) and
// createDigest(algorithm, buf) -> Buffer (webcrypto, as the runtime does).
//
// Determinism: every random source is a seeded generator.
//   * randomBytes(n) and sodium.randombytes_buf(n) draw from it;
//   * libsodium's own randomness (crypto_box_seal's ephemeral keys) comes from
//     node's crypto.randomBytes(4) inside libsodium.js, which is replaced too;
//   * Math.random is replaced as well (the reference uses it for ports and
//     peer shuffles).
// Call __seedRandom(seed) before generating.
import nodeCrypto, { webcrypto } from 'node:crypto'
import libsodium from 'libsodium-wrappers'
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

// libsodium.js (emscripten, node branch) calls require('crypto').randomBytes(4)
// at call time for every random word it needs.
const originalNodeRandomBytes = nodeCrypto.randomBytes
nodeCrypto.randomBytes = function (size, cb) {
  if (typeof cb === 'function') return originalNodeRandomBytes.call(this, size, cb)
  return __randomBytes(size)
}

Math.random = function () {
  const b = __randomBytes(6)
  return b.readUIntBE(0, 6) / 2 ** 48
}

// ---- exports used by latica/ -------------------------------------------------
const sodium = {
  ready: libsodium.ready.then(() => {
    Object.assign(sodium, libsodium)
    sodium.randombytes_buf = (length, outputFormat) => {
      const bytes = new Uint8Array(__randomBytes(length))
      if (outputFormat === 'hex') return Buffer.from(bytes).toString('hex')
      return bytes
    }
    return sodium
  })
}

export { sodium }
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

export default { sodium, ready, randomBytes, getRandomValues, createDigest }

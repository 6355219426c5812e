// Stand-in for the socket runtime's `crypto.js` (the `../crypto.js` that the
// reference's latica/*.js import), written for core/tests/crypto_interop.rs.
// Not part of the reference.
//
// interop.mjs copies this file next to a copy of latica/*.js, and next to the
// pinned package's own `crypto/sodium.js` and `external/libsodium/index.js`
// (the libsodium build the reference BUNDLES, 1.0.18). So the reference's
// code runs on its own libsodium, loaded the way the runtime loads it
// (`import('./crypto/sodium.js')`, `.default.libsodium`, `ready`, then
// `Object.assign(sodium, libsodium)`), and with real randomness (node's
// webcrypto), as in the runtime under node. (The vector generator's shim
// loads the same bundled libsodium, but with seeded randomness.)
//
// Exports what latica/ uses: sodium, randomBytes, createDigest (plus
// getRandomValues and ready, as the runtime does).
import { webcrypto } from 'node:crypto'
import { Buffer } from './buffer.js'
import { toBuffer } from './util.js'

const sodium = {
  ready: new Promise((resolve, reject) => {
    import('./crypto/sodium.js')
      .then((module) => module.default.libsodium)
      .then((libsodium) => libsodium.ready.then(() => libsodium))
      .then((libsodium) => Object.assign(sodium, libsodium))
      .then(resolve, reject)
  })
}

export { sodium, webcrypto }
export const ready = sodium.ready

export function getRandomValues (buffer) {
  return webcrypto.getRandomValues(buffer)
}

const RANDOM_BYTES_QUOTA = 64 * 1024

// The runtime's randomBytes: quota-sized draws from getRandomValues.
export function randomBytes (size) {
  if (size < 0 || !Number.isInteger(size)) {
    throw Object.assign(new RangeError(`The value of "size" is out of range. Received ${size}`), {
      code: 'ERR_OUT_OF_RANGE'
    })
  }
  const buffers = []
  do {
    const length = size > RANDOM_BYTES_QUOTA ? RANDOM_BYTES_QUOTA : size
    buffers.push(toBuffer(getRandomValues(new Int8Array(length))))
    size = Math.max(0, size - RANDOM_BYTES_QUOTA)
  } while (size > 0)
  return Buffer.concat(buffers)
}

export async function createDigest (algorithm, buf) {
  return Buffer.from(await webcrypto.subtle.digest(algorithm, buf))
}

export default { sodium, ready, webcrypto, getRandomValues, randomBytes, createDigest }

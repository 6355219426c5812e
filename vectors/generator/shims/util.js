// Shim for `../util.js` as imported by the reference's latica/*.js.
// Written for streamrelay's vector generator (not part of the reference).
// Mirrors the three helpers of @socketsupply/socket@0.6.0-rc.8 util.js.
import { types } from 'node:util'
import { Buffer } from './buffer.js'

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype)

export function isTypedArray (object) {
  return types.isTypedArray(object)
}

export function isArrayBuffer (object) {
  return object !== null && object instanceof ArrayBuffer
}

export function isArrayLike (input) {
  return (
    (Array.isArray(input) || isTypedArray(input)) &&
    input !== TypedArrayPrototype &&
    input !== Buffer.prototype
  )
}

export function isBufferLike (object) {
  return isArrayBuffer(object) || isTypedArray(object) || Buffer.isBuffer(object)
}

export function toBuffer (object, encoding = undefined) {
  if (Buffer.isBuffer(object)) {
    return object
  } else if (isTypedArray(object)) {
    return Buffer.from(object.buffer)
  } else if (typeof object?.toBuffer === 'function') {
    return toBuffer(object.toBuffer(), encoding)
  }

  return Buffer.from(object, encoding)
}

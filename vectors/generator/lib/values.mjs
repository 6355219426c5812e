// Tagged values of latica-oracle-vectors/1 and the "decoded form" of a packet.
import { Buffer } from 'node:buffer'
import { types } from 'node:util'

export const hex = b => Buffer.from(b).toString('hex')
export const tHex = b => ({ hex: hex(b) })
export const tStr = s => ({ str: s })
export const tJson = v => ({ json: v })
export const tUndef = () => ({ undefined: true })

const HEX_RE = /^([0-9a-f]{2})*$/

export function isTagged (v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false
  const keys = Object.keys(v)
  if (keys.length !== 1) return false
  const k = keys[0]
  if (k === 'hex') return typeof v.hex === 'string' && HEX_RE.test(v.hex)
  if (k === 'str') return typeof v.str === 'string'
  if (k === 'json') return true
  if (k === 'undefined') return v.undefined === true
  return false
}

// Tagged value -> the JS value handed to the reference.
export function fromTagged (v) {
  if (!isTagged(v)) throw new Error(`not a tagged value: ${JSON.stringify(v)}`)
  if ('hex' in v) return Buffer.from(v.hex, 'hex')
  if ('str' in v) return v.str
  if ('json' in v) return structuredClone(v.json)
  return undefined
}

// JSON.stringify semantics (key order = JS property order, Infinity -> null,
// -0 -> 0, undefined members dropped).
export const jsonNormalize = v => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)))

export const isBytes = v => Buffer.isBuffer(v) || types.isTypedArray(v) || v instanceof ArrayBuffer

export const PACKET_KEYS = [
  'type', 'version', 'clock', 'hops', 'index', 'ttl',
  'clusterId', 'subclusterId', 'previousId', 'packetId', 'nextId',
  'usr1', 'usr2', 'usr3', 'usr4', 'message', 'sig'
]
export const NUMBER_KEYS = new Set(['type', 'version', 'clock', 'hops', 'index', 'ttl'])

// Decoded form of a reference Packet: exactly the PACKET_SPEC keys in order.
export function decodedForm (p) {
  const out = {}
  for (const k of PACKET_KEYS) {
    const v = p[k]
    if (NUMBER_KEYS.has(k)) {
      out[k] = v
    } else if (k === 'message') {
      out[k] = isBytes(v) ? hex(v) : { json: jsonNormalize(v) === undefined ? null : jsonNormalize(v) }
    } else {
      if (!isBytes(v)) throw new Error(`decoded field ${k} is not bytes`)
      out[k] = hex(v)
    }
  }
  return out
}

export function errorText (err) {
  if (err instanceof Error) return err.message
  return String(err)
}

// Stable comparison of two JSON-able values (object key order significant).
export const canon = v => JSON.stringify(v)
export const sameJson = (a, b) => canon(a) === canon(b)

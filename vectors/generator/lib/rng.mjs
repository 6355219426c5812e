// Seeded PRNG for the case *inputs* (SHA-256 in counter mode).
import { createHash } from 'node:crypto'
import { Buffer } from 'node:buffer'

export class Rng {
  constructor (seed, stream = 'inputs') {
    this.key = createHash('sha256').update(`streamrelay-vectors:${stream}:${seed}`).digest()
    this.counter = 0
    this.pool = Buffer.alloc(0)
  }

  bytes (n) {
    while (this.pool.length < n) {
      const block = createHash('sha256').update(this.key).update(String(this.counter++)).digest()
      this.pool = Buffer.concat([this.pool, block])
    }
    const out = Buffer.from(this.pool.subarray(0, n))
    this.pool = this.pool.subarray(n)
    return out
  }

  hex (nBytes) { return this.bytes(nBytes).toString('hex') }
  u32 () { return this.bytes(4).readUInt32BE(0) }
  float () { return this.bytes(6).readUIntBE(0, 6) / 2 ** 48 }
  // integer in [lo, hi]
  int (lo, hi) { return lo + Math.floor(this.float() * (hi - lo + 1)) }
  bool (p = 0.5) { return this.float() < p }
  pick (arr) { return arr[this.int(0, arr.length - 1)] }
  shuffle (arr) {
    const a = [...arr]
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[a[i], a[j]] = [a[j], a[i]]
    }
    return a
  }

  sample (arr, n) { return this.shuffle(arr).slice(0, n) }
  word (min = 3, max = 10) {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz'
    let s = ''
    const n = this.int(min, max)
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, 25)]
    return s
  }

  ipv4 () {
    // documentation ranges only (RFC 5737): never a real host
    const net = this.pick(['192.0.2', '198.51.100', '203.0.113'])
    return `${net}.${this.int(1, 254)}`
  }
}

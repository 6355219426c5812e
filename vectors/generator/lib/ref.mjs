// Loads the reference (copied into ../.ref by setup.sh) under a controlled
// environment: frozen clock, seeded randomness, offline, no console noise.
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
export const GENERATOR_DIR = path.resolve(here, '..')
export const REF_DIR = path.join(GENERATOR_DIR, '.ref')

export const REFERENCE_NAME = '@socketsupply/socket@0.6.0-rc.8 latica/'
export const FORMAT = 'latica-oracle-vectors/1'
export const DEFAULT_FIXED_NOW = 1700000000000
// The libsodium the reference bundles (external/libsodium): what the crypto
// shim loads. loadReference() fails on anything else.
export const LIBSODIUM_VERSION = '1.0.18'

let fixedNow = DEFAULT_FIXED_NOW
const realDateNow = Date.now.bind(Date)
export const realNow = () => realDateNow()

export function setFixedNow (ms) {
  fixedNow = ms
}

// Frozen clock: every Date.now() in the reference returns fixedNow.
Date.now = () => fixedNow

// The reference reads `globalThis.navigator?.onLine !== false` (Peer.onLine).
// Offline: the main loop does nothing (no reflection, no heartbeat pings),
// publish() does not multicast. Nothing is ever sent.
Object.defineProperty(globalThis, 'navigator', {
  value: { onLine: false, userAgent: 'streamrelay-vector-generator' },
  configurable: true,
  writable: true
})

// Packet.decode logs every rejected frame with console.warn; keep output clean.
const quietWarn = () => {}
console.warn = quietWarn

let loaded = null

// Files setup.sh puts into .ref/ (a .ref/ made by an older setup.sh lacks the
// libsodium ones: setup.sh is run again).
const SETUP_MARKERS = ['latica/packets.js', 'crypto/sodium.js', 'external/libsodium/index.js']

export async function loadReference () {
  if (loaded) return loaded
  if (!SETUP_MARKERS.every(f => existsSync(path.join(REF_DIR, f)))) {
    // first run: install and prepare the reference (setup.sh is idempotent)
    const r = spawnSync('bash', [path.join(GENERATOR_DIR, 'setup.sh')], { stdio: ['ignore', 2, 2] })
    if (r.status !== 0 || !SETUP_MARKERS.every(f => existsSync(path.join(REF_DIR, f)))) {
      throw new Error(`reference not set up: run ${path.join(GENERATOR_DIR, 'setup.sh')} first`)
    }
  }
  const url = f => pathToFileURL(path.join(REF_DIR, f)).href
  // api.js first: it imports index.js before packets.js, which is the only
  // import order in which latica's circular imports evaluate without a TDZ error.
  const apiMod = await import(url('latica/api.js'))
  const index = await import(url('latica/index.js'))
  const packets = await import(url('latica/packets.js'))
  const cache = await import(url('latica/cache.js'))
  const nat = await import(url('latica/nat.js'))
  const encryption = await import(url('latica/encryption.js'))
  const crypto = await import(url('crypto.js'))
  const bufferMod = await import(url('buffer.js'))
  await crypto.sodium.ready
  const libsodiumVersion = crypto.sodium.sodium_version_string()
  if (libsodiumVersion !== LIBSODIUM_VERSION) {
    throw new Error(`expected the bundled libsodium ${LIBSODIUM_VERSION}, loaded ${libsodiumVersion} (run setup.sh again)`)
  }
  loaded = {
    libsodiumVersion,
    api: apiMod.api,
    index,
    packets,
    cache,
    nat,
    encryption,
    crypto,
    sodium: crypto.sodium,
    Buffer: bufferMod.Buffer,
    Packet: packets.Packet,
    Cache: cache.Cache,
    Encryption: encryption.Encryption,
    Peer: index.Peer,
    classes: {
      1: packets.PacketPing,
      2: packets.PacketPong,
      3: packets.PacketIntro,
      4: packets.PacketJoin,
      5: packets.PacketPublish,
      6: packets.PacketStream,
      7: packets.PacketSync,
      8: packets.PacketQuery
    }
  }
  return loaded
}

export function seedReferenceRandom (seed) {
  if (!loaded) throw new Error('loadReference() first')
  loaded.crypto.__seedRandom(seed)
}

export function referenceConstants (ref) {
  const p = ref.packets
  return {
    MAGIC_BYTES_PREFIX: [...p.MAGIC_BYTES_PREFIX],
    VERSION: p.VERSION,
    MESSAGE_BYTES: p.MESSAGE_BYTES,
    PACKET_BYTES: p.PACKET_BYTES,
    CACHE_TTL: p.CACHE_TTL,
    MAX_HOPS: p.MAX_HOPS,
    PACKET_SPEC: JSON.parse(JSON.stringify(p.PACKET_SPEC)),
    NAT: {
      UNKNOWN: ref.nat.UNKNOWN,
      UNRESTRICTED: ref.nat.UNRESTRICTED,
      ADDR_RESTRICTED: ref.nat.ADDR_RESTRICTED,
      PORT_RESTRICTED: ref.nat.PORT_RESTRICTED,
      ENDPOINT_RESTRICTED: ref.nat.ENDPOINT_RESTRICTED,
      MAPPING_ENDPOINT_INDEPENDENT: ref.nat.MAPPING_ENDPOINT_INDEPENDENT,
      MAPPING_ENDPOINT_DEPENDENT: ref.nat.MAPPING_ENDPOINT_DEPENDENT,
      FIREWALL_ALLOW_ANY: ref.nat.FIREWALL_ALLOW_ANY,
      FIREWALL_ALLOW_KNOWN_IP: ref.nat.FIREWALL_ALLOW_KNOWN_IP,
      FIREWALL_ALLOW_KNOWN_IP_AND_PORT: ref.nat.FIREWALL_ALLOW_KNOWN_IP_AND_PORT,
      STRATEGY_DEFER: ref.nat.STRATEGY_DEFER,
      STRATEGY_DIRECT_CONNECT: ref.nat.STRATEGY_DIRECT_CONNECT,
      STRATEGY_TRAVERSAL_OPEN: ref.nat.STRATEGY_TRAVERSAL_OPEN,
      STRATEGY_TRAVERSAL_CONNECT: ref.nat.STRATEGY_TRAVERSAL_CONNECT,
      STRATEGY_PROXY: ref.nat.STRATEGY_PROXY
    }
  }
}

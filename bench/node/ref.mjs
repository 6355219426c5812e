// Loads the reference's latica/packets.js (@socketsupply/socket@0.6.0-rc.8)
// from the vector generator's git-ignored copy, vectors/generator/.ref/,
// running vectors/generator/setup.sh first if that copy is missing.
// Nothing of the reference lives in bench/.
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const PACKETS_JS = join(ROOT, 'vectors', 'generator', '.ref', 'latica', 'packets.js')

export async function loadReference () {
  if (!existsSync(PACKETS_JS)) {
    const setup = join(ROOT, 'vectors', 'generator', 'setup.sh')
    if (!existsSync(setup)) {
      throw new Error(`${PACKETS_JS} is missing and so is ${setup}`)
    }
    // setup.sh prints its progress; keep stdout clean for --json users.
    execFileSync('bash', [setup], { stdio: ['ignore', process.stderr, 'inherit'] })
  }
  // latica's modules import each other in a cycle (packets.js -> index.js ->
  // cache.js -> packets.js); entering through packets.js makes cache.js read
  // PACKET_BYTES before it is initialised. Enter through index.js, as the
  // reference's own users do.
  await import(pathToFileURL(join(dirname(PACKETS_JS), 'index.js')).href)
  return import(pathToFileURL(PACKETS_JS).href)
}

// The reference's modules beyond the codec: { Packet…, index, encryption }
// (latica/packets.js, latica/index.js with the Peer, latica/encryption.js).
export async function loadLatica () {
  const packets = await loadReference()
  const dir = dirname(PACKETS_JS)
  const index = await import(pathToFileURL(join(dir, 'index.js')).href)
  const encryption = await import(pathToFileURL(join(dir, 'encryption.js')).href)
  return { ...packets, index, encryption }
}

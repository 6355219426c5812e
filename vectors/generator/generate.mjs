#!/usr/bin/env node
// Generate one latica-oracle-vectors/1 file by running the reference.
//
//   bash setup.sh                       # once (installs and prepares the reference)
//   node generate.mjs --seed S [--fixed-now MS] --out FILE
//
// Everything random in the case inputs comes from a PRNG seeded by S; the
// reference's own randomness (randomBytes, libsodium) is seeded from S too,
// so the same seed and fixed-now give the same file. The reference runs on
// the libsodium it bundles (1.0.18); the file records that version
// (`libsodium`), and check.mjs refuses a file made with another one.
import { writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { Buffer } from 'node:buffer'
import {
  loadReference, seedReferenceRandom, setFixedNow, referenceConstants, realNow,
  FORMAT, REFERENCE_NAME, DEFAULT_FIXED_NOW
} from './lib/ref.mjs'
import { RUNNERS, KINDS, netStats } from './lib/kinds.mjs'
import { Rng } from './lib/rng.mjs'
import { buildEncodeCases, buildDecodeCases, labelDecodeQuirk, labelEncodeQuirk } from './lib/build-packets.mjs'
import { buildCryptoCases, buildApiCases, buildNatCases, buildCacheCases, buildValidateCases, labelApiQuirk } from './lib/build-misc.mjs'

const HARD_TIMEOUT_MS = 110_000
setTimeout(() => {
  console.error(`generate.mjs: hard timeout after ${HARD_TIMEOUT_MS} ms`)
  process.exit(3)
}, HARD_TIMEOUT_MS).unref()

function parseArgs (argv) {
  const args = { seed: null, fixedNow: DEFAULT_FIXED_NOW, out: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) usage(`missing value for ${a}`)
      return argv[++i]
    }
    if (a === '--seed') args.seed = val()
    else if (a === '--fixed-now') args.fixedNow = Number(val())
    else if (a === '--out') args.out = val()
    else if (a === '-h' || a === '--help') usage()
    else usage(`unknown argument ${a}`)
  }
  if (args.seed === null || args.seed === '') usage('--seed is required')
  if (!args.out) usage('--out is required')
  if (!Number.isSafeInteger(args.fixedNow) || args.fixedNow < 0) usage('--fixed-now must be a non-negative integer (ms)')
  return args
}

function usage (msg) {
  if (msg) console.error(`generate.mjs: ${msg}`)
  console.error('usage: node generate.mjs --seed S [--fixed-now MS] --out FILE   (run setup.sh first)')
  process.exit(msg ? 2 : 0)
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  const t0 = realNow()
  setFixedNow(args.fixedNow)
  const ref = await loadReference()
  seedReferenceRandom(args.seed)
  const rng = new Rng(args.seed, 'inputs')
  const ctx = { fixedNow: args.fixedNow }

  const all = []
  const names = new Set()
  const run = async (list) => {
    for (const c of list) {
      let name = c.name
      for (let k = 2; names.has(name); k++) name = `${c.name}~${k}`
      names.add(name)
      c.name = name
      c.expected = await RUNNERS[c.kind](ref, c.input)
      all.push(c)
    }
    return list
  }

  // packet.encode first: its accepted frames seed packet.decode
  const enc = await run(buildEncodeCases(rng, ctx))
  enc.forEach(labelEncodeQuirk)
  ctx.encoded = enc
    .filter(c => c.expected.decodeAccepted)
    .map(c => ({ name: c.name, type: c.input.fields.type, buf: Buffer.from(c.expected.hex, 'hex') }))
  const dec = await run(buildDecodeCases(rng, ctx))
  dec.forEach(labelDecodeQuirk)
  await run(await buildCryptoCases(rng, ref))
  ;(await run(buildApiCases(rng))).forEach(labelApiQuirk)
  await run(buildNatCases(rng))
  await run(buildCacheCases(rng))
  await run(buildValidateCases(rng))

  if (netStats.sends !== 0 || netStats.nonLoopbackSends !== 0) {
    throw new Error(`network safety: the reference tried to send ${netStats.sends} datagram(s), ${netStats.nonLoopbackSends} to a non-loopback address`)
  }

  const counts = {}
  for (const k of KINDS) counts[k] = 0
  for (const c of all) counts[c.kind]++
  const cases = all.map(c => {
    const o = { name: c.name, category: c.category, kind: c.kind }
    if (c.note) o.note = c.note
    if (c.quirk) o.quirk = true
    o.input = c.input
    o.expected = c.expected
    return o
  })
  const file = {
    format: FORMAT,
    reference: REFERENCE_NAME,
    libsodium: ref.libsodiumVersion,
    seed: args.seed,
    fixedNow: args.fixedNow,
    constants: referenceConstants(ref),
    counts,
    total: cases.length,
    cases
  }
  mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true })
  writeFileSync(args.out, JSON.stringify(file, null, 1) + '\n')
  const quirks = cases.filter(c => c.quirk).length
  console.log(`wrote ${args.out}: ${cases.length} cases (${quirks} quirk), libsodium ${ref.libsodiumVersion}, in ${((realNow() - t0) / 1000).toFixed(1)} s; network sends attempted: ${netStats.sends}`)
  for (const k of KINDS) console.log(`  ${k.padEnd(24)} ${counts[k]}`)
}

main().then(() => process.exit(0), err => {
  console.error('generate.mjs:', err && err.stack ? err.stack : err)
  process.exit(1)
})

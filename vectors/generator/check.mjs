#!/usr/bin/env node
// Re-check vector files against the reference.
//
//   bash setup.sh                 # once
//   node check.mjs FILE...
//
// For every case, the reference is run again on `input` (with the file's
// fixedNow) and must give exactly `expected`. Randomised outputs are checked
// by opening them with the reference instead of comparing bytes: api.pack's
// `sealed` must open to `plaintext`, and the case is then replayed with that
// sealed payload injected, so every other field (packets, ids, delivery) must
// match byte for byte. Prints one line per failure and `N passed, N failed`.
// A file whose `libsodium` is not the version the reference runs on (the one
// it bundles, 1.0.18) is refused, not checked: its crypto results may differ.
// Exit status: 0 all passed, 1 failures, 2 a file is not in the format (or
// was made with another libsodium).
import { readFileSync } from 'node:fs'
import { loadReference, seedReferenceRandom, setFixedNow, realNow, FORMAT } from './lib/ref.mjs'
import { KINDS, checkCase, netStats } from './lib/kinds.mjs'

const HARD_TIMEOUT_MS = 110_000
setTimeout(() => {
  console.error(`check.mjs: hard timeout after ${HARD_TIMEOUT_MS} ms`)
  process.exit(3)
}, HARD_TIMEOUT_MS).unref()

function formatProblems (file, ref) {
  const p = []
  const isObj = v => v !== null && typeof v === 'object' && !Array.isArray(v)
  if (!isObj(file)) return ['top level is not an object']
  if (file.format !== FORMAT) p.push(`format is ${JSON.stringify(file.format)}, expected ${FORMAT}`)
  if (typeof file.reference !== 'string') p.push('reference missing')
  if (file.libsodium !== ref.libsodiumVersion) {
    p.push(file.libsodium === undefined
      ? `libsodium missing: the file does not say which libsodium made it (the reference runs on ${ref.libsodiumVersion}); regenerate it`
      : `libsodium is ${JSON.stringify(file.libsodium)}, the reference runs on ${ref.libsodiumVersion}: not re-checked; regenerate it`)
  }
  if (typeof file.seed !== 'string') p.push('seed missing')
  if (!Number.isSafeInteger(file.fixedNow)) p.push('fixedNow missing or not an integer')
  if (!isObj(file.constants)) p.push('constants missing')
  if (!isObj(file.counts)) p.push('counts missing')
  if (!Array.isArray(file.cases)) return [...p, 'cases is not an array']
  if (file.total !== file.cases.length) p.push(`total ${file.total} != ${file.cases.length} cases`)
  const names = new Set()
  const counts = {}
  file.cases.forEach((c, i) => {
    const at = `case ${i}${c && c.name ? ` (${c.name})` : ''}`
    if (!isObj(c)) { p.push(`${at}: not an object`); return }
    if (typeof c.name !== 'string' || !c.name) p.push(`${at}: name missing`)
    else if (names.has(c.name)) p.push(`${at}: duplicate name`)
    names.add(c.name)
    if (typeof c.category !== 'string') p.push(`${at}: category missing`)
    if (!KINDS.includes(c.kind)) p.push(`${at}: unknown kind ${JSON.stringify(c.kind)}`)
    if ('quirk' in c && c.quirk !== true) p.push(`${at}: quirk must be true when present`)
    if ('note' in c && typeof c.note !== 'string') p.push(`${at}: note must be a string`)
    if (!isObj(c.input)) p.push(`${at}: input missing`)
    if (!isObj(c.expected)) p.push(`${at}: expected missing`)
    counts[c.kind] = (counts[c.kind] || 0) + 1
  })
  for (const k of new Set([...Object.keys(counts), ...Object.keys(file.counts || {})])) {
    if ((counts[k] || 0) !== (file.counts?.[k] || 0)) p.push(`counts.${k} = ${file.counts?.[k]}, file has ${counts[k] || 0}`)
  }
  return p
}

async function main () {
  const files = process.argv.slice(2)
  if (!files.length) {
    console.error('usage: node check.mjs FILE...   (run setup.sh first)')
    process.exit(2)
  }
  const t0 = realNow()
  const ref = await loadReference()
  let passed = 0
  let failed = 0
  let badFormat = false
  for (const f of files) {
    let file
    try {
      file = JSON.parse(readFileSync(f, 'utf8'))
    } catch (err) {
      console.log(`${f}: not readable as JSON: ${err.message}`)
      badFormat = true
      continue
    }
    const fp = formatProblems(file, ref)
    if (fp.length) {
      for (const m of fp.slice(0, 20)) console.log(`${f}: format: ${m}`)
      if (fp.length > 20) console.log(`${f}: format: ... ${fp.length - 20} more`)
      badFormat = true
      continue
    }
    setFixedNow(file.fixedNow)
    seedReferenceRandom(file.seed)
    for (const c of file.cases) {
      let problems
      try {
        problems = await checkCase(ref, c)
      } catch (err) {
        problems = [`the reference run threw: ${err && err.message}`]
      }
      if (problems.length) {
        failed++
        console.log(`FAIL ${c.name}: ${problems.join('; ')}`)
      } else {
        passed++
      }
    }
  }
  if (netStats.sends !== 0) {
    console.log(`network safety: the reference tried to send ${netStats.sends} datagram(s) (${netStats.nonLoopbackSends} non-loopback)`)
    failed++
  }
  console.error(`checked ${files.length} file(s) in ${((realNow() - t0) / 1000).toFixed(1)} s`)
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(badFormat ? 2 : failed ? 1 : 0)
}

main().catch(err => {
  console.error('check.mjs:', err && err.stack ? err.stack : err)
  process.exit(2)
})

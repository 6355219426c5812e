#!/usr/bin/env node
// Cross-checks the datagrams of flow files (streamrelay-flows/1, made from
// the Rust core by `cargo run -p streamrelay-vectors --example flows`)
// with the reference's decoder: every datagram a Peer sends must decode
// (`Packet.decode` accepts it) and re-encode (`Packet.encode`) to the same
// bytes, i.e. a reference peer reads exactly what the Rust peer meant.
// The one-byte datagram `01` (opens a NAT mapping, §6.6) is not a packet
// and is counted apart. Inputs are not checked here: every datagram input
// between Peers is another Peer's transmit; the rest are hand-made (hostile
// ones on purpose).
//
//   bash setup.sh        # once
//   node check-flows.mjs ../flows.json
//
// Prints one line per datagram the reference reads otherwise, then
// `N passed, N failed`. Exit status: 0 all passed, 1 failures, 2 not a flow file.
import { readFileSync } from 'node:fs'
import { Buffer } from 'node:buffer'
import { loadReference } from './lib/ref.mjs'

const FLOWS = 'streamrelay-flows/1'

async function main () {
  const files = process.argv.slice(2)
  if (!files.length) {
    console.error('usage: node check-flows.mjs FILE...')
    process.exit(2)
  }
  const ref = await loadReference()
  let passed = 0
  let failed = 0
  let opens = 0
  for (const f of files) {
    let doc
    try {
      doc = JSON.parse(readFileSync(f, 'utf8'))
    } catch (err) {
      console.log(`${f}: not readable as JSON: ${err.message}`)
      process.exit(2)
    }
    if (doc.format !== FLOWS || !Array.isArray(doc.flows)) {
      console.log(`${f}: not a ${FLOWS} file`)
      process.exit(2)
    }
    for (const flow of doc.flows) {
      for (const [i, step] of flow.steps.entries()) {
        for (const [k, t] of (step.expect.transmits || []).entries()) {
          const at = `${flow.name} steps[${i}].expect.transmits[${k}]`
          if (t.hex === '01') { opens++; continue }
          const buf = Buffer.from(t.hex, 'hex')
          const p = ref.Packet.decode(buf)
          if (!p) { failed++; console.log(`FAIL ${at}: the reference does not decode it`); continue }
          let again
          try {
            again = Buffer.from(await ref.Packet.encode(p)).toString('hex')
          } catch (err) {
            failed++
            console.log(`FAIL ${at}: the reference cannot re-encode it: ${err.message}`)
            continue
          }
          if (again !== t.hex) {
            failed++
            let j = 0
            while (j < again.length && again[j] === t.hex[j]) j++
            console.log(`FAIL ${at}: re-encoded differently from hex digit ${j}: ...${again.slice(j, j + 40)} (ours ...${t.hex.slice(j, j + 40)})`)
            continue
          }
          passed++
        }
      }
    }
  }
  console.error(`${opens} one-byte mapping openers (01) not checked`)
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed ? 1 : 0)
}

main().catch(err => {
  console.error('check-flows.mjs:', err && err.stack ? err.stack : err)
  process.exit(2)
})

// Live interop between `streamrelay peer` (target/release/streamrelay) and
// REFERENCE peers (ref-peer.mjs: npm @socketsupply/socket@0.6.0-rc.8 latica/
// api() buses on real UDP sockets behind a loopback guard), all on 127.0.0.1.
//
// Every scenario starts its processes, lets them run for a bounded time
// (each has --duration; a kill timer backs it up), then asserts from the JSON
// event lines of BOTH sides. Only processes started here are stopped, by pid.
// Every reference peer's summary must report guard.nonLoopback === 0.
//
//   node tests/interop/run.mjs [scenario names, e.g. a bcd m]    (default: all)
// Environment: STREAMRELAY_BIN (default target/release/streamrelay).
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '../..')
const BIN = process.env.STREAMRELAY_BIN || path.join(ROOT, 'target/release/streamrelay')
const REF = path.join(HERE, 'ref-peer.mjs')
const VERBOSE = !!process.env.INTEROP_VERBOSE

const sha256hex = s => createHash('sha256').update(s).digest('hex')
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const KEEPALIVE = '3000'

// ------------------------------------------------------------------ processes
const running = new Set()
function start (name, kind, args, durationS) {
  const [cmd, argv] = kind === 'rust'
    ? [BIN, ['peer', ...args, '--duration', String(durationS)]]
    : [process.execPath, [REF, ...args, '--duration', String(durationS)]]
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const p = { name, kind, lines: [], stderr: '', child }
  let buf = ''
  child.stdout.on('data', d => {
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      if (!line.trim()) continue
      try { p.lines.push(JSON.parse(line)) } catch { p.lines.push({ event: 'unparsed', line }) }
      if (VERBOSE) console.log(`  [${name}] ${line}`)
    }
  })
  child.stderr.on('data', d => { p.stderr += d })
  // hard bound: duration + 10 s, then SIGKILL this child only
  const killer = setTimeout(() => { try { child.kill('SIGKILL') } catch {} }, (durationS + 10) * 1000)
  // 'close', not 'exit': 'exit' can fire before the last stdout bytes
  // (the summary line) have been read from the pipe.
  p.done = new Promise(resolve => child.on('close', code => {
    clearTimeout(killer)
    running.delete(child)
    p.code = code
    resolve(p)
  }))
  return p
}
process.on('exit', () => { for (const c of running) { try { c.kill('SIGKILL') } catch {} } })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1))

const evs = (p, event) => p.lines.filter(l => l.event === event)
const first = (p, event) => evs(p, event)[0]
const info = p => first(p, 'listening') || {}

// ------------------------------------------------------------------ asserts
let failures = 0
const results = []
function check (scenario, what, ok, detail = '') {
  results.push({ scenario, what, ok })
  if (!ok) failures++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${scenario}: ${what}${!ok && detail ? ' — ' + detail : ''}`)
}
function guardCheck (scenario, procs) {
  for (const p of procs.filter(p => p.kind === 'ref')) {
    const s = first(p, 'summary')
    check(scenario, `${p.name}: loopback guard counted 0 non-loopback sends`, s && s.guard.nonLoopback === 0 && s.guard.refused === 0,
      s ? JSON.stringify(s.guard) : `no summary (exit ${p.code}) ${p.stderr.slice(-400)}`)
  }
  for (const p of procs.filter(p => p.kind === 'rust')) {
    check(scenario, `${p.name}: exited cleanly with a summary`, p.code === 0 && !!first(p, 'summary'), `exit ${p.code} ${p.stderr.slice(-300)}`)
  }
}
const dump = procs => {
  if (!VERBOSE && failures) {
    for (const p of procs) {
      console.log(`  --- ${p.name} (${p.kind}) exit=${p.code}`)
      for (const l of p.lines) console.log('   ', JSON.stringify(l).slice(0, 300))
      if (p.stderr) console.log('    stderr:', p.stderr.slice(-600))
    }
  }
}
const hasConn = (p, id) => evs(p, 'connection').some(l => l.peerId === id)
const messagesOf = (p, eventName) => evs(p, 'message').filter(l => l.eventName === eventName)

// Two introducers (reflection needs two answers).
function introducers (kind, base, tag, duration) {
  const seeds = [`${tag}-intro-1`, `${tag}-intro-2`]
  const procs = seeds.map((s, i) => start(`${kind}-intro-${i + 1}`, kind,
    ['--seed', s, '--port', String(base + i), '--nat', '31', '--indexed', '--keepalive', KEEPALIVE], duration))
  const flags = seeds.flatMap((s, i) => ['--introducer', `127.0.0.1:${base + i}:${sha256hex(s)}`])
  return { procs, flags, ids: seeds.map(sha256hex) }
}

const LONG = (who) => JSON.stringify({ from: who, text: 'x'.repeat(2000) }) // > 864 bytes: a chain

// ------------------------------------------------------------------ scenarios
const scenarios = {
  // a. NAT discovery off two reference introducers.
  async a () {
    const I = introducers('ref', 47210, 'a', 9)
    await sleep(1200)
    const R = start('rust', 'rust', ['--seed', 'a-rust', ...I.flags, '--keepalive', KEEPALIVE], 6)
    const P = start('ref', 'ref', ['--seed', 'a-ref', ...I.flags, '--keepalive', KEEPALIVE], 6)
    const all = [...I.procs, R, P]
    await Promise.all(all.map(p => p.done))
    const rNat = first(R, 'ready')?.natType
    const pNat = first(P, 'ready')?.natType
    check('a', `reference peer computes a NAT type (${pNat})`, typeof pNat === 'number')
    // docs/compat.md#interop-loopback-nat: on loopback every answer comes
    // from 127.0.0.1, so our probe classification (compat#reflection: by the
    // answering IP) reads "known IP" where the reference's (by count) reads
    // "any". Same mapping bits; both are direct-connect NATs.
    const expected = pNat === 31 ? 15 : pNat
    check('a', `Rust peer reports NAT ${rNat} (reference: ${pNat}; expected ${expected}, docs/compat.md#interop)`, rNat === expected)
    check('a', 'Rust network-change line carries the NAT type', first(R, 'network-change')?.natType === rNat)
    for (const [i, ip] of I.procs.entries()) {
      check('a', `reference introducer ${i + 1} reports a connection from the Rust peer`, hasConn(ip, info(R).peerId))
      check('a', `Rust peer reports a connection to introducer ${i + 1}`, hasConn(R, I.ids[i]))
      const c = evs(ip, 'connection').find(l => l.peerId === info(R).peerId)
      check('a', `introducer ${i + 1} sees the Rust peer's port and NAT type`, c && c.port === info(R).port && c.natType === rNat, JSON.stringify(c))
    }
    guardCheck('a', all); dump(all)
  },

  // b + c + d. A reference introducer pair introduces a Rust peer and a
  // reference peer; they connect directly; short and chained messages both ways.
  async bcd () {
    const I = introducers('ref', 47220, 'b', 16)
    await sleep(1200)
    const common = [...I.flags, '--keepalive', KEEPALIVE, '--join', 'bcd-sub', '--publish-delay', '3500', '--listen', 'short-r', '--listen', 'long-r', '--listen', 'short-j', '--listen', 'long-j']
    const R = start('rust', 'rust', ['--seed', 'b-rust', ...common,
      '--publish', 'bcd-sub:short-r:{"from":"rust","n":1}', '--publish', `bcd-sub:long-r:${LONG('rust')}`], 13)
    const P = start('ref', 'ref', ['--seed', 'b-ref', ...common,
      '--publish', 'bcd-sub:short-j:hello from the reference', '--publish', `bcd-sub:long-j:${LONG('ref')}`], 13)
    const all = [...I.procs, R, P]
    await Promise.all(all.map(p => p.done))
    const r = info(R); const p = info(P)
    // b
    const introduced = evs(R, 'intro').some(l => l.peerId === p.peerId) || evs(P, 'connection').some(l => l.peerId === r.peerId)
    check('b', 'an introduction happened (Rust intro line or reference connection)', introduced)
    const rc = evs(R, 'connection').find(l => l.peerId === p.peerId)
    check('b', 'Rust peer connects to the reference peer directly (no proxy, its real port)', rc && rc.proxy === null && rc.port === p.port, JSON.stringify(rc))
    const pc = evs(P, 'connection').find(l => l.peerId === r.peerId)
    check('b', 'reference peer reports a connection from the Rust peer at its real port', pc && pc.port === r.port, JSON.stringify(pc))
    check('b', 'both sides see the other join the subcluster', evs(R, 'join').some(l => l.peerId === p.peerId && l.subcluster === 'bcd-sub') && evs(P, 'join').some(l => l.peerId === r.peerId && l.subcluster === 'bcd-sub'))
    // c
    const m1 = messagesOf(P, 'short-r')[0]
    check('c', 'Rust → reference: delivered, opened, verified, signed by the Rust key', m1 && m1.verified === true && m1.payload.json?.from === 'rust' && m1.signer === r.publicKey, JSON.stringify(m1))
    const m2 = messagesOf(R, 'short-j')[0]
    check('c', 'reference → Rust: delivered, opened, verified, signed by the reference key', m2 && m2.verified === true && m2.payload.utf8 === 'hello from the reference' && m2.signer === p.publicKey, JSON.stringify(m2))
    // d
    const rPub = evs(R, 'published').find(l => l.eventName === 'long-r')
    check('d', `Rust published the long message as a chain (${rPub?.packets} packets)`, rPub && rPub.packets > 1)
    const m3 = messagesOf(P, 'long-r')[0]
    check('d', 'Rust chain → reference: reassembled, verified, intact', m3 && m3.verified === true && m3.payload.utf8 === LONG('rust'), m3 ? `${m3.payload.utf8.length} bytes` : 'none')
    const m4 = messagesOf(R, 'long-j')[0]
    check('d', 'reference chain → Rust: reassembled, verified, intact', m4 && m4.verified === true && m4.payload.utf8 === LONG('ref') && m4.signer === p.publicKey, m4 ? `${m4.payload.utf8.length} bytes` : 'none')
    guardCheck('bcd', all); dump(all)
  },

  // e. Rust introducers (--nat 31 --indexed) for two reference peers.
  async e () {
    const I = introducers('rust', 47230, 'e', 13)
    await sleep(500)
    const common = [...I.flags, '--keepalive', KEEPALIVE, '--join', 'e-sub', '--publish-delay', '4000', '--listen', 'from-1', '--listen', 'from-2']
    const P1 = start('ref-1', 'ref', ['--seed', 'e-ref-1', ...common, '--publish', 'e-sub:from-1:one'], 11)
    const P2 = start('ref-2', 'ref', ['--seed', 'e-ref-2', ...common, '--publish', 'e-sub:from-2:two'], 11)
    const all = [...I.procs, P1, P2]
    await Promise.all(all.map(p => p.done))
    const a = info(P1); const b = info(P2)
    check('e', `reference peers compute their NAT type off Rust introducers (${first(P1, 'ready')?.natType}, ${first(P2, 'ready')?.natType})`, typeof first(P1, 'ready')?.natType === 'number' && typeof first(P2, 'ready')?.natType === 'number')
    for (const ip of I.procs) check('e', `${ip.name} reports connections from both reference peers`, hasConn(ip, a.peerId) && hasConn(ip, b.peerId))
    check('e', 'the reference peers connect to each other', hasConn(P1, b.peerId) && hasConn(P2, a.peerId))
    const m1 = messagesOf(P2, 'from-1')[0]; const m2 = messagesOf(P1, 'from-2')[0]
    check('e', 'ref-1 → ref-2 delivered and verified', m1 && m1.verified && m1.payload.utf8 === 'one' && m1.signer === a.publicKey, JSON.stringify(m1))
    check('e', 'ref-2 → ref-1 delivered and verified', m2 && m2.verified && m2.payload.utf8 === 'two' && m2.signer === b.publicKey, JSON.stringify(m2))
    guardCheck('e', all); dump(all)
  },

  // f. Two reference peers that cannot reach each other (guard rule: each
  // drops what it sends to the other's port); Rust introducers relay.
  async f () {
    const I = introducers('rust', 47240, 'f', 15)
    await sleep(500)
    const [p1, p2] = [47245, 47246]
    const common = [...I.flags, '--keepalive', KEEPALIVE, '--join', 'f-sub', '--publish-delay', '5000', '--listen', 'relayed-1', '--listen', 'relayed-2']
    const P1 = start('ref-1', 'ref', ['--seed', 'f-ref-1', '--port', String(p1), '--drop-port', String(p2), ...common, '--publish', 'f-sub:relayed-1:via rust 1'], 13)
    const P2 = start('ref-2', 'ref', ['--seed', 'f-ref-2', '--port', String(p2), '--drop-port', String(p1), ...common, '--publish', 'f-sub:relayed-2:via rust 2'], 13)
    const all = [...I.procs, P1, P2]
    await Promise.all(all.map(p => p.done))
    const a = info(P1); const b = info(P2)
    const d1 = first(P1, 'summary')?.guard.dropped; const d2 = first(P2, 'summary')?.guard.dropped
    check('f', `the direct path is really cut (dropped ${d1} + ${d2} datagrams)`, d1 > 0 || d2 > 0)
    const m1 = messagesOf(P2, 'relayed-1')[0]; const m2 = messagesOf(P1, 'relayed-2')[0]
    check('f', 'ref-1 → ref-2 arrives through the Rust relay, verified, hops ≥ 2', m1 && m1.verified && m1.payload.utf8 === 'via rust 1' && m1.signer === a.publicKey && m1.hops >= 2, JSON.stringify(m1))
    check('f', 'ref-2 → ref-1 arrives through the Rust relay, verified, hops ≥ 2', m2 && m2.verified && m2.payload.utf8 === 'via rust 2' && m2.signer === b.publicKey && m2.hops >= 2, JSON.stringify(m2))
    const relayed = I.procs.map(p => first(p, 'summary')?.relayed ?? 0)
    check('f', `the Rust introducers relayed packets (${relayed.join(' + ')})`, relayed.some(n => n > 0))
    guardCheck('f', all); dump(all)
  },

  // g. A reference peer publishes while the Rust recipient is down; the Rust
  // peer starts later and receives it.
  async g () {
    const I = introducers('ref', 47250, 'g', 22)
    await sleep(1200)
    const P = start('ref', 'ref', ['--seed', 'g-ref', ...I.flags, '--keepalive', KEEPALIVE, '--join', 'g-sub', '--publish-delay', '2500', '--publish', 'g-sub:while-away:{"note":"published while you were down"}'], 20)
    await sleep(6000)
    const pub = first(P, 'published')
    check('g', 'the reference published before the Rust peer started', !!pub, JSON.stringify(P.lines.slice(-3)))
    const R = start('rust', 'rust', ['--seed', 'g-rust', ...I.flags, '--keepalive', KEEPALIVE, '--join', 'g-sub', '--listen', 'while-away'], 12)
    const all = [...I.procs, P, R]
    await Promise.all(all.map(p => p.done))
    const m = messagesOf(R, 'while-away')[0]
    check('g', 'the late Rust peer receives it, verified, from the reference key', m && m.verified && m.payload.json?.note === 'published while you were down' && m.signer === info(P).publicKey, JSON.stringify(m))
    guardCheck('g', all); dump(all)
  },

  // g2. The same, but the publisher is gone too when the Rust peer starts:
  // only the reference introducers' caches hold the packet (sync).
  async g2 () {
    const I = introducers('ref', 47260, 'g2', 20)
    await sleep(1200)
    const P = start('ref', 'ref', ['--seed', 'g2-ref', ...I.flags, '--keepalive', KEEPALIVE, '--join', 'g2-sub', '--publish-delay', '2500', '--publish', 'g2-sub:after-exit:{"note":"the publisher has left"}'], 5)
    await P.done
    check('g2', 'the reference published, then exited, before the Rust peer started', !!first(P, 'published'))
    const R = start('rust', 'rust', ['--seed', 'g2-rust', ...I.flags, '--keepalive', KEEPALIVE, '--join', 'g2-sub', '--listen', 'after-exit'], 10)
    const all = [...I.procs, P, R]
    await Promise.all(all.map(p => p.done))
    const m = messagesOf(R, 'after-exit')[0]
    check('g2', 'the late Rust peer receives it from an introducer, verified, from the reference key', m && m.verified && m.payload.json?.note === 'the publisher has left' && m.signer === info(P).publicKey, JSON.stringify(m))
    guardCheck('g2', all); dump(all)
  },

  // m. Mixed subcluster: reference introducers, two Rust peers on the DEFAULT
  // profile and two reference peers; one of each side publishes; every other
  // peer gets both messages.
  async m () {
    const I = introducers('ref', 47270, 'm', 17)
    await sleep(1200)
    const common = [...I.flags, '--keepalive', KEEPALIVE, '--join', 'm-sub', '--publish-delay', '5000', '--listen', 'from-ref', '--listen', 'from-rust']
    const R1 = start('rust-1', 'rust', ['--seed', 'm-rust-1', '--profile', 'default', ...common, '--publish', 'm-sub:from-rust:{"from":"rust","n":1}'], 14)
    const R2 = start('rust-2', 'rust', ['--seed', 'm-rust-2', '--profile', 'default', ...common], 14)
    const P1 = start('ref-1', 'ref', ['--seed', 'm-ref-1', ...common, '--publish', 'm-sub:from-ref:hello from the reference'], 14)
    const P2 = start('ref-2', 'ref', ['--seed', 'm-ref-2', ...common], 14)
    const all = [...I.procs, R1, R2, P1, P2]
    await Promise.all(all.map(p => p.done))
    check('m', 'both publishers published', !!evs(R1, 'published').find(l => l.eventName === 'from-rust') && !!evs(P1, 'published').find(l => l.eventName === 'from-ref'))
    const fromRust = m => m && m.verified === true && m.payload.json?.from === 'rust' && m.signer === info(R1).publicKey
    const fromRef = m => m && m.verified === true && m.payload.utf8 === 'hello from the reference' && m.signer === info(P1).publicKey
    for (const p of [R2, P1, P2]) {
      const m = messagesOf(p, 'from-rust')[0]
      check('m', `${p.name} got the Rust (default profile) peer's message, verified, signed by its key`, fromRust(m), JSON.stringify(m))
    }
    for (const p of [R1, R2, P2]) {
      const m = messagesOf(p, 'from-ref')[0]
      check('m', `${p.name} got the reference peer's message, verified, signed by its key`, fromRef(m), JSON.stringify(m))
    }
    guardCheck('m', all); dump(all)
  }
}

// ------------------------------------------------------------------ main
const wanted = process.argv.slice(2)
const t0 = Date.now()
for (const [name, fn] of Object.entries(scenarios)) {
  if (wanted.length && !wanted.some(w => name.includes(w))) continue
  const t = Date.now()
  console.log(`# scenario ${name}`)
  try { await fn() } catch (e) { check(name, `ran without throwing: ${e.stack}`, false) }
  console.log(`# scenario ${name}: ${((Date.now() - t) / 1000).toFixed(1)} s`)
}
const passed = results.filter(r => r.ok).length
console.log(`interop: ${passed} passed, ${failures} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
process.exit(failures ? 1 : 0)

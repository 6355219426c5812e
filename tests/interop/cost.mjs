// Control-plane cost of real processes on loopback: 2 introducers + N peers
// joining ONE subcluster, no application traffic, for D seconds, in up to
// three setups (run one after the other):
//   a  all reference: ref-peer.mjs introducers (--indexed --nat 31) + N ref-peer.mjs peers
//   b  all Rust, `streamrelay peer --profile reference`
//   c  all Rust, the default profile
// Every process prints a `summary` line at exit with `sent` (datagrams by
// type byte, index 0 = not starting with the magic) and `datagramsIn`; this
// adds them up, by type, and per peer, prints a table and one JSON line
// ({"event":"cost",...}). It also counts, per peer, the `connection` lines
// (distinct peers other than the introducers) so that a peer that never
// connected cannot pass for a cheap one.
//
//   node tests/interop/cost.mjs [--peers N] [--duration S] [--setups a,b,c]
//                               [--keepalive MS] [--base-port P]
// Defaults: N=20, S=45, all setups, keepalive = each side's default (the
// reference's 30000 ms; not passed), introducers on 127.0.0.1:P..P+5
// (P=47400; run.mjs uses 47210-47262), peers on ephemeral ports.
// Peers start staggered over the first ~2 s and each runs S seconds; the
// introducers start 1.2 s earlier and stop ~3 s after the last peer.
// Every child has --duration and a SIGKILL timer (duration + 10 s); all
// children are killed on exit or signal. Reference processes run behind the
// loopback guard; a summary with guard.nonLoopback !== 0 fails the run.
// Environment: STREAMRELAY_BIN (default target/release/streamrelay),
// COST_VERBOSE=1 (print every line).
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '../..')
const BIN = process.env.STREAMRELAY_BIN || path.join(ROOT, 'target/release/streamrelay')
const REF = path.join(HERE, 'ref-peer.mjs')
const VERBOSE = !!process.env.COST_VERBOSE
const TYPES = ['raw', 'Ping', 'Pong', 'Intro', 'Join', 'Publish', 'Stream', 'Sync', 'Query']

// ------------------------------------------------------------------ options
const opts = { peers: 20, duration: 45, setups: ['a', 'b', 'c'], keepalive: null, basePort: 47400 }
{
  const a = process.argv.slice(2)
  for (let i = 0; i < a.length; i++) {
    const v = () => a[++i]
    switch (a[i]) {
      case '--peers': opts.peers = Number(v()); break
      case '--duration': opts.duration = Number(v()); break
      case '--setups': opts.setups = v().split(',').map(s => s.trim()).filter(Boolean); break
      case '--keepalive': opts.keepalive = Number(v()); break
      case '--base-port': opts.basePort = Number(v()); break
      default: console.error(`unknown option ${a[i]}`); process.exit(2)
    }
  }
  if (!(opts.peers > 0 && opts.duration > 0) || opts.setups.some(s => !'abc'.includes(s) || s.length !== 1)) {
    console.error('usage: node tests/interop/cost.mjs [--peers N] [--duration S] [--setups a,b,c] [--keepalive MS] [--base-port P]')
    process.exit(2)
  }
}

const sha256hex = s => createHash('sha256').update(s).digest('hex')
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// ------------------------------------------------------------------ processes
const running = new Set()
function start (name, kind, args, durationS) {
  const [cmd, argv] = kind === 'ref'
    ? [process.execPath, [REF, ...args, '--duration', String(durationS)]]
    : [BIN, ['peer', ...args, '--duration', String(durationS)]]
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
  child.stderr.on('data', d => { p.stderr = (p.stderr + d).slice(-2000) })
  const killer = setTimeout(() => { try { child.kill('SIGKILL') } catch {} }, (durationS + 10) * 1000)
  p.done = new Promise(resolve => {
    child.on('error', e => { p.stderr += String(e) })
    child.on('close', code => {
      clearTimeout(killer)
      running.delete(child)
      p.code = code
      resolve(p)
    })
  })
  return p
}
process.on('exit', () => { for (const c of running) { try { c.kill('SIGKILL') } catch {} } })
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1))

const evs = (p, event) => p.lines.filter(l => l.event === event)
const summaryOf = p => evs(p, 'summary')[0]

// ------------------------------------------------------------------ one setup
const SETUPS = {
  a: { label: 'all reference (ref-peer.mjs)', kind: 'ref', profile: [] },
  b: { label: 'all Rust --profile reference', kind: 'rust', profile: ['--profile', 'reference'] },
  c: { label: 'all Rust --profile default', kind: 'rust', profile: [] }
}

async function runSetup (key, index) {
  const S = SETUPS[key]
  const N = opts.peers
  const D = opts.duration
  const STAGGER_MS = 2000
  const LEAD_MS = 1200
  const base = opts.basePort + 2 * index
  const ka = opts.keepalive ? ['--keepalive', String(opts.keepalive)] : []
  const introSeeds = [1, 2].map(i => `cost-${key}-intro-${i}`)
  const introDur = Math.ceil((LEAD_MS + STAGGER_MS) / 1000 + D + 3)
  const intros = introSeeds.map((s, i) => start(`intro-${i + 1}`, S.kind,
    ['--seed', s, '--port', String(base + i), '--nat', '31', '--indexed', ...ka, ...S.profile], introDur))
  const introIds = introSeeds.map(sha256hex)
  const flags = introSeeds.flatMap((s, i) => ['--introducer', `127.0.0.1:${base + i}:${introIds[i]}`])
  await sleep(LEAD_MS)
  const peers = []
  for (let i = 0; i < N; i++) {
    peers.push(start(`peer-${i + 1}`, S.kind,
      ['--seed', `cost-${key}-peer-${i + 1}`, ...flags, '--join', 'cost-sub', ...ka, ...S.profile], D))
    await sleep(STAGGER_MS / N)
  }
  const all = [...intros, ...peers]
  await Promise.all(all.map(p => p.done))

  const problems = []
  const sumSent = procs => {
    const v = new Array(TYPES.length).fill(0)
    for (const p of procs) {
      const s = summaryOf(p)
      if (!s || !Array.isArray(s.sent)) continue
      s.sent.forEach((n, t) => { v[t] += n })
    }
    return v
  }
  for (const p of all) {
    const s = summaryOf(p)
    if (!s || !Array.isArray(s.sent)) problems.push(`${p.name}: no summary with sent (exit ${p.code}) ${p.stderr.slice(-300)}`)
    else if (p.kind === 'ref' && (s.guard?.nonLoopback !== 0 || s.guard?.refused !== 0)) problems.push(`${p.name}: loopback guard ${JSON.stringify(s.guard)}`)
    else if (p.kind === 'rust' && p.code !== 0) problems.push(`${p.name}: exit ${p.code}`)
  }
  const byType = sumSent(all)
  const introByType = sumSent(intros)
  const peerByType = sumSent(peers)
  const total = byType.reduce((a, b) => a + b, 0)
  const introTotal = introByType.reduce((a, b) => a + b, 0)
  const datagramsIn = all.reduce((a, p) => a + (summaryOf(p)?.datagramsIn ?? 0), 0)
  // connections seen by each peer
  const introSet = new Set(introIds)
  const conn = peers.map(p => {
    const lines = evs(p, 'connection')
    const others = new Set(lines.map(l => l.peerId).filter(id => id && !introSet.has(id)))
    const joins = new Set(evs(p, 'join').map(l => l.peerId))
    const sum = summaryOf(p)
    return {
      name: p.name,
      sent: sum?.sent?.reduce((a, b) => a + b, 0) ?? null,
      in: sum?.datagramsIn ?? null,
      lines: lines.length,
      others: others.size,
      joins: joins.size,
      peers: sum?.peers ?? null,
      nat: evs(p, 'ready')[0]?.natType ?? null,
      readyT: evs(p, 'ready')[0]?.t ?? null
    }
  })
  const stat = f => {
    const v = conn.map(f).filter(x => typeof x === 'number').sort((a, b) => a - b)
    return v.length ? { min: v[0], median: v[Math.floor(v.length / 2)], max: v[v.length - 1] } : null
  }
  return {
    setup: key,
    label: S.label,
    peers: N,
    duration: D,
    total,
    perPeer: +(total / N).toFixed(1),
    byType: Object.fromEntries(TYPES.map((t, i) => [t, byType[i]])),
    introducers: { total: introTotal, byType: Object.fromEntries(TYPES.map((t, i) => [t, introByType[i]])) },
    peersOnly: { total: total - introTotal, byType: Object.fromEntries(TYPES.map((t, i) => [t, peerByType[i]])) },
    datagramsIn,
    connectionLines: stat(c => c.lines),
    connectedPeers: stat(c => c.others),
    joinsSeen: stat(c => c.joins),
    summaryPeers: stat(c => c.peers),
    peersWithoutPeerConnection: conn.filter(c => c.others === 0).length,
    peersWithoutNat: conn.filter(c => c.nat === null).length,
    peerDetail: conn,
    problems
  }
}

// ------------------------------------------------------------------ main
const results = []
console.log(`# cost: ${opts.peers} peers + 2 introducers, one subcluster, ${opts.duration} s, setups ${opts.setups.join(',')}, keepalive ${opts.keepalive ?? 'default'}`)
for (const [i, key] of opts.setups.entries()) {
  const t = Date.now()
  console.log(`# setup ${key}: ${SETUPS[key].label} ...`)
  const r = await runSetup(key, 'abc'.indexOf(key))
  results.push(r)
  console.log(`# setup ${key}: ${r.total} datagrams, ${((Date.now() - t) / 1000).toFixed(1)} s${r.problems.length ? `, ${r.problems.length} problem(s)` : ''}`)
  for (const pr of r.problems) console.log(`  PROBLEM ${pr}`)
  if (i < opts.setups.length - 1) await sleep(500)
}

const pad = (s, n) => String(s).padStart(n)
const cols = ['total', 'per peer', ...TYPES, 'intro', 'in']
const w = 9
console.log('')
console.log(`datagrams sent (all processes), N=${opts.peers}, D=${opts.duration} s`)
console.log(pad('setup', 6) + cols.map(c => pad(c, w)).join(''))
for (const r of results) {
  console.log(pad(r.setup, 6) + [r.total, r.perPeer, ...TYPES.map(t => r.byType[t]), r.introducers.total, r.datagramsIn].map(x => pad(x, w)).join(''))
}
console.log('')
console.log('per peer: connection lines / distinct non-introducer peers connected / distinct joins seen / summary peers  (min median max)')
const fmt = s => s ? `${s.min} ${s.median} ${s.max}` : '-'
for (const r of results) {
  console.log(`${pad(r.setup, 6)}  conn ${fmt(r.connectionLines).padEnd(12)} peers ${fmt(r.connectedPeers).padEnd(12)} joins ${fmt(r.joinsSeen).padEnd(12)} table ${fmt(r.summaryPeers).padEnd(12)} no-peer-conn ${r.peersWithoutPeerConnection}  no-NAT ${r.peersWithoutNat}`)
}
console.log(JSON.stringify({ event: 'cost', peers: opts.peers, duration: opts.duration, keepalive: opts.keepalive, types: TYPES, results }))
process.exit(results.some(r => r.problems.length) ? 1 : 0)

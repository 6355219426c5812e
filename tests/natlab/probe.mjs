// UDP probes for the lab's self-test (RFC 4787 mapping and filtering, and
// hairpinning). Runs inside a lab namespace; sends only to the addresses it
// is given (lab addresses) and exits after --duration seconds.
//
//   probe.mjs reflect --address A [--stranger IP] --duration S
//       listens on A:3478 and A:3479.
//       {op:'map'}    → answers from the same socket with the source it saw
//       {op:'filter'} → answers from 3478 (via 'same'), from 3479 (via
//                       'port'), and asks the stranger to answer (via 'ip')
//       {op:'relay', to} → sends {via:'ip'} from 3478 to `to`
//   probe.mjs classify --address A --r1 IP --r2 IP --duration S
//       mapping: one socket asks r1 and r2 what they saw;
//       filtering: a fresh socket sends {op:'filter'} to r1 only, and notes
//       which answers get through. Prints one JSON line.
//   probe.mjs hairpin-listen --address A --r1 IP --duration S
//       learns its public endpoint from r1, prints it, then echoes every
//       datagram back and prints who sent it
//   probe.mjs hairpin-send --address A --to IP:PORT --duration S
//       sends to IP:PORT and prints what comes back
import dgram from 'node:dgram'

const [role, ...rest] = process.argv.slice(2)
const o = {}
for (let i = 0; i < rest.length; i += 2) o[rest[i].replace(/^--/, '')] = rest[i + 1]
const duration = Number(o.duration || 5) * 1000
setTimeout(() => process.exit(0), duration).unref()
const out = x => process.stdout.write(JSON.stringify(x) + '\n')
// IPv4 or IPv6 by the address given
const FAMILY = (o.address || '').includes(':') ? 'udp6' : 'udp4'
const SOCKET = FAMILY === 'udp6' ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' }
const sock = () => new Promise(resolve => {
  const s = dgram.createSocket(SOCKET)
  s.on('error', () => {})
  s.bind({ port: 0, address: o.address }, () => resolve(s))
})
const send = (s, obj, port, addr) => s.send(Buffer.from(JSON.stringify(obj)), port, addr)
const parse = b => { try { return JSON.parse(b.toString()) } catch { return {} } }
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

if (role === 'reflect') {
  const a = dgram.createSocket(SOCKET); const b = dgram.createSocket(SOCKET)
  for (const s of [a, b]) s.on('error', () => {})
  await new Promise(resolve => a.bind(3478, o.address, resolve))
  await new Promise(resolve => b.bind(3479, o.address, resolve))
  const onMsg = s => (msg, r) => {
    const m = parse(msg)
    if (m.op === 'map') send(s, { op: 'seen', id: m.id, address: r.address, port: r.port }, r.port, r.address)
    if (m.op === 'filter') {
      send(a, { op: 'hit', id: m.id, via: 'same' }, r.port, r.address)
      send(b, { op: 'hit', id: m.id, via: 'port' }, r.port, r.address)
      if (o.stranger) send(a, { op: 'relay', id: m.id, address: r.address, port: r.port }, 3478, o.stranger)
    }
    if (m.op === 'relay') send(a, { op: 'hit', id: m.id, via: 'ip' }, Number(m.port), m.address)
  }
  a.on('message', onMsg(a)); b.on('message', onMsg(b))
  out({ event: 'listening', address: o.address })
} else if (role === 'classify') {
  const m = await sock()
  const seen = {}
  m.on('message', msg => { const x = parse(msg); if (x.op === 'seen') seen[x.id] = x })
  const f = await sock()
  const hits = new Set()
  f.on('message', msg => { const x = parse(msg); if (x.op === 'hit') hits.add(x.via) })
  // three tries each, in case a datagram is lost
  for (let i = 0; i < 3 && !(seen.r1 && seen.r2); i++) {
    send(m, { op: 'map', id: 'r1' }, 3478, o.r1)
    send(m, { op: 'map', id: 'r2' }, 3478, o.r2)
    await sleep(300)
  }
  send(f, { op: 'filter', id: 'f' }, 3478, o.r1)
  await sleep(1000)
  out({
    event: 'result',
    localPort: m.address().port,
    r1: seen.r1 ? `${seen.r1.address}:${seen.r1.port}` : null,
    r2: seen.r2 ? `${seen.r2.address}:${seen.r2.port}` : null,
    seenAddress: seen.r1?.address ?? null,
    mapping: !(seen.r1 && seen.r2) ? 'unknown' : seen.r1.port === seen.r2.port && seen.r1.address === seen.r2.address ? 'independent' : 'dependent',
    preserved: !!seen.r1 && seen.r1.port === m.address().port,
    filtering: ['same', 'port', 'ip'].filter(v => hits.has(v))
  })
  process.exit(0)
} else if (role === 'hairpin-listen') {
  const m = await sock()
  m.on('message', (msg, r) => {
    const x = parse(msg)
    if (x.op === 'seen') { out({ event: 'mapped', address: x.address, port: x.port }); return }
    out({ event: 'got', from: `${r.address}:${r.port}`, op: x.op })
    send(m, { op: 'echo' }, r.port, r.address)
  })
  send(m, { op: 'map', id: 'r1' }, 3478, o.r1)
} else if (role === 'hairpin-send') {
  const m = await sock()
  const [addr, port] = o.to.split(':')
  m.on('message', (msg, r) => { out({ event: 'got', from: `${r.address}:${r.port}`, op: parse(msg).op }) })
  for (let i = 0; i < 3; i++) { send(m, { op: 'hello' }, Number(port), addr); await sleep(200) }
} else {
  console.error(`unknown role ${role}`)
  process.exit(2)
}

// Case inputs for packet.encode and packet.decode.
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { walkFrame } from './frame.mjs'
import { strictProblem } from './strict.mjs'

const H = b => ({ hex: Buffer.isBuffer(b) ? b.toString('hex') : b })
const S = s => ({ str: s })
const J = v => ({ json: v })
const sha256 = x => createHash('sha256').update(x).digest()
const b64 = b => Buffer.from(b).toString('base64')

const TYPE_NAMES = { 1: 'ping', 2: 'pong', 3: 'intro', 4: 'join', 5: 'publish', 6: 'stream', 7: 'sync', 8: 'query' }

// ---------------------------------------------------------------------------
// packet.encode

export function buildEncodeCases (rng, ctx) {
  const cases = []
  const now = ctx.fixedNow
  const add = (category, name, fields, extra = {}) => {
    cases.push({ name: `encode/${TYPE_NAMES[fields.type]}/${name}`, category, kind: 'packet.encode', ...extra, input: { fields } })
  }
  const Q = (...notes) => ({ quirk: true, note: notes.join(' ') })

  const pid = () => rng.hex(32)
  const hash40 = () => rng.hex(20)
  const rid = () => rng.hex(6)
  const ts = () => now - rng.int(0, 29_000)
  const nat = () => rng.pick([5, 7, 13, 15, 29, 31])
  const port = () => rng.int(1024, 65535)
  const clusterId = () => rng.bytes(32)
  const self = pid()
  const other = pid()

  // well-known inputs from the spec (§2.8, §2.9)
  const exCluster = sha256('example-cluster')
  const exSub = Buffer.from('6a72ca18c6fcbb6313fbd3a7cbb8307e1fd5aaae85679eb776b996616d029f29', 'hex')
  const exPeer = '4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f'
  add('spec', 'spec-2.8-publish-hello', { type: 5, clock: 1, clusterId: H(exCluster), subclusterId: H(exSub), usr1: H(sha256('greeting')), message: H(Buffer.from('hello')) }, { note: 'spec §2.8 worked example' })
  add('spec', 'spec-2.9-join', {
    type: 4,
    clock: 7,
    clusterId: H(exCluster),
    subclusterId: H(exSub),
    message: J({ requesterPeerId: exPeer, natType: 7, address: '203.0.113.5', port: 40000, key: `${b64(exCluster)}:${b64(exSub)}` })
  }, { note: 'spec §2.9 Join' })
  add('spec', 'spec-2.9-ping', { type: 1, clusterId: H(exCluster), message: J({ requesterPeerId: exPeer, natType: 7, uptime: 60000, timestamp: 1700000000000 }) }, { note: 'spec §2.9 Ping' })
  add('spec', 'spec-2.9-default-sync', { type: 7 }, { note: 'spec §2.9 default Sync (87 bytes)' })
  add('spec', 'spec-2.9-default-query', { type: 8 }, { note: 'spec §2.9 default Query' })

  // ---- defaults for every type
  for (let t = 1; t <= 8; t++) add('default', 'no-fields', { type: t }, { note: t <= 4 ? 'types 1-4 validate an absent message: construct error' : 'all defaults' })
  add('default', 'empty-object-message', { type: 1, message: J({}) }, { note: 'Ping requires requesterPeerId' })

  // ---- control message variants (§3.1 - §3.8), two random instances each
  for (let round = 1; round <= 2; round++) {
    const cid = clusterId()
    const sub = rng.bytes(32)
    const r = `#${round}`
    add('variant', `P1-heartbeat${r}`, { type: 1, clusterId: H(cid), message: J({ requesterPeerId: pid(), natType: nat(), uptime: rng.int(0, 1e6), timestamp: ts() }) })
    add('variant', `P2-bootstrap${r}`, { type: 1, clusterId: H(cid), message: J({ isConnection: true, requesterPeerId: pid(), uptime: rng.int(0, 1e6), timestamp: ts() }) })
    add('variant', `P3-reflection-probe${r}`, { type: 1, clusterId: H(cid), message: J({ requesterPeerId: pid(), isReflection: true, reflectionId: rid(), isProbe: true, uptime: 0, timestamp: ts() }) })
    add('variant', `P4-reflection-stage2${r}`, { type: 1, clusterId: H(cid), message: J({ requesterPeerId: pid(), isReflection: true, reflectionId: rid(), probeExternalPort: port(), uptime: 30000, timestamp: ts() }) })
    add('variant', `P4-no-probe-port${r}`, { type: 1, clusterId: H(cid), message: J({ requesterPeerId: pid(), isReflection: true, reflectionId: rid(), uptime: 30000, timestamp: ts() }) })
    add('variant', `P5-nat-announcement${r}`, { type: 1, clusterId: H(cid), message: J({ requesterPeerId: pid(), natType: nat(), cacheSize: rng.int(0, 6604), isConnection: true, uptime: 60000, timestamp: ts() }) })
    add('variant', `P6-intro-answer${r}`, { type: 1, clusterId: H(cid), subclusterId: H(sub), message: J({ natType: nat(), isConnection: true, cacheSummaryHash: hash40(), requesterPeerId: pid(), uptime: 90000, timestamp: ts() }) })
    add('variant', `P7-traversal${r}`, { type: 1, clusterId: H(cid), subclusterId: H(sub), message: J({ requesterPeerId: pid(), cacheSummaryHash: hash40(), natType: 5, uptime: 120000, isConnection: true, timestamp: ts(), pingId: rid() }) })
    add('variant', `P8-traversal-confirm${r}`, { type: 1, clock: rng.int(1, 50), clusterId: H(cid), subclusterId: H(sub), message: J({ requesterPeerId: pid(), natType: 7, isConnection: true }) })
    add('variant', `pong-plain${r}`, { type: 2, message: J({ cacheSize: rng.int(0, 100), uptime: rng.int(0, 1e6), responderPeerId: pid(), requesterPeerId: pid(), port: port(), address: rng.ipv4(), natType: nat(), cacheSummaryHash: hash40() }) })
    add('variant', `pong-reflection${r}`, { type: 2, message: J({ cacheSize: 0, uptime: 30000, responderPeerId: pid(), requesterPeerId: pid(), port: port(), isProbe: true, address: rng.ipv4(), reflectionId: rid(), isReflection: true, cacheSummaryHash: hash40() }) })
    add('variant', `pong-reflection-stage2${r}`, { type: 2, message: J({ cacheSize: 3, uptime: 30000, responderPeerId: pid(), requesterPeerId: pid(), port: port(), address: rng.ipv4(), reflectionId: rid(), isReflection: true, cacheSummaryHash: hash40() }) })
    add('variant', `pong-connection${r}`, { type: 2, message: J({ cacheSize: 1, uptime: 30000, responderPeerId: pid(), requesterPeerId: pid(), pingId: rid(), natType: nat(), isConnection: true, cacheSummaryHash: hash40() }) })
    add('variant', `intro${r}`, { type: 3, hops: rng.int(1, 3), clusterId: H(cid), subclusterId: H(sub), usr1: H(Buffer.from(String(ts()))), message: J({ requesterPeerId: pid(), responderPeerId: pid(), isRendezvous: rng.bool(), natType: nat(), address: rng.ipv4(), port: port() }) })
    const joiner = pid()
    const jAddr = rng.ipv4()
    const jPort = port()
    const J1 = { requesterPeerId: joiner, natType: nat(), address: jAddr, port: jPort, key: `${b64(cid)}:${b64(sub)}` }
    add('variant', `J1-join${r}`, { type: 4, clock: rng.int(1, 100), clusterId: H(cid), subclusterId: H(sub), message: J(J1) })
    add('variant', `J2-join-rendezvous${r}`, { type: 4, clock: rng.int(1, 100), hops: 1, clusterId: H(cid), subclusterId: H(sub), message: J({ ...J1, rendezvousAddress: rng.ipv4(), rendezvousPort: port(), rendezvousType: 31, rendezvousPeerId: pid(), rendezvousDeadline: now + 30000 }) })
    add('variant', `J3-rendezvous-reply${r}`, { type: 4, clock: rng.int(1, 100), clusterId: H(cid), subclusterId: H(sub), message: J({ requesterPeerId: pid(), natType: 31, address: rng.ipv4(), port: port(), rendezvousType: J1.natType, rendezvousRequesterPeerId: joiner }) })
    add('variant', `query-question${r}`, { type: 8, usr1: H(Buffer.from(String(ts()))), usr3: H(rng.bytes(32)), usr4: H(Buffer.from('1')), message: J({ packetId: rng.hex(32) }) })
    add('variant', `query-question-app${r}`, { type: 8, usr1: H(Buffer.from(String(ts()))), usr3: H(rng.bytes(32)), usr4: H(Buffer.from('1')), message: J({ [rng.word()]: rng.word(), n: rng.int(0, 1000), nested: { list: [1, 'two', null, true] } }) })
    add('variant', `query-answer-raw${r}`, { type: 8, clock: 2, hops: 3, clusterId: H(cid), subclusterId: H(sub), packetId: H(rng.bytes(32)), usr1: H(rng.bytes(32)), usr3: H(rng.bytes(32)), usr4: H(Buffer.from('2')), message: H(rng.bytes(rng.int(100, 300))) })
    add('variant', `sync-summary${r}`, { type: 7, usr4: H(Buffer.from(String(now - 21600000))), message: H(Buffer.concat([Buffer.from([0]), rng.bytes(20), Buffer.from([3]), rng.bytes(20)])) })
    add('variant', `publish-signed${r}`, { type: 5, clock: 1, ttl: rng.int(1000, 21600000), clusterId: H(cid), subclusterId: H(sub), packetId: H(rng.bytes(32)), usr1: H(rng.bytes(32)), usr2: H(rng.bytes(32)), sig: H(rng.bytes(64)), message: H(rng.bytes(rng.int(160, 1024))) })
    add('variant', `stream${r}`, { type: 6, clock: 1, clusterId: H(cid), subclusterId: H(sub), packetId: H(rng.bytes(32)), usr1: H(rng.bytes(32)), usr2: H(rng.bytes(32)), usr3: H(Buffer.from(other, 'hex')), usr4: H(Buffer.from(self, 'hex')), sig: H(rng.bytes(64)), message: H(rng.bytes(rng.int(160, 1024))) })
  }

  // ---- message sizes
  for (const t of [5, 6, 7, 8]) {
    for (const n of [0, 1, 864, 1023, 1024, 1025]) {
      add('size', `message-${n}-bytes`, { type: t, message: H(rng.bytes(n)) }, { note: n > 1024 ? 'ETOOBIG' : (n === 0 ? 'an empty byte array is kept: zero-length field' : undefined) })
    }
  }
  add('size', 'json-message-1024-chars', { type: 8, message: J({ k: 'x'.repeat(1016) }) }, { note: 'JSON text is exactly 1024 bytes' })
  add('size', 'json-message-1025-chars', { type: 8, message: J({ k: 'x'.repeat(1017) }) }, { note: 'ETOOBIG' })
  add('size', 'str-message-1024', { type: 5, message: S('a'.repeat(1024)) })
  add('size', 'str-message-1025', { type: 5, message: S('a'.repeat(1025)) }, { note: 'ETOOBIG' })
  add('size', 'max-frame-1421', {
    type: 5,
    clusterId: H(rng.bytes(32)), subclusterId: H(rng.bytes(32)), previousId: H(rng.bytes(32)), packetId: H(rng.bytes(32)), nextId: H(rng.bytes(32)),
    usr1: H(rng.bytes(32)), usr2: H(rng.bytes(32)), usr3: H(rng.bytes(32)), usr4: H(rng.bytes(32)), message: H(rng.bytes(1024)), sig: H(rng.bytes(64))
  }, { note: 'largest frame (§2.2)' })

  // ---- index
  for (const index of [-1, 0, 1, 2, 1000, -2, -(2 ** 31), 2 ** 31 - 1]) {
    add('index', `index-${index}-bytes`, { type: 5, index, message: H(rng.bytes(rng.int(1, 40))) })
  }
  add('index', 'index-2^31', { type: 5, index: 2 ** 31, message: H(rng.bytes(4)) }, { note: 'out of range: error' })
  add('index', 'index--2^31-1', { type: 5, index: -(2 ** 31) - 1, message: H(rng.bytes(4)) }, { note: 'out of range: error' })
  for (const t of [5, 6, 7, 8]) {
    add('index', 'chain-head', { type: t, index: 0, clock: 1, nextId: H(rng.bytes(32)), message: J({ meta: {}, ts: now, size: 2500, indexes: 3 }) }, { note: 'chain head: JSON message (§7.2)' })
  }
  add('index', 'chain-head-meta', { type: 5, index: 0, clock: 3, previousId: H(rng.bytes(32)), nextId: H(rng.bytes(32)), message: J({ meta: { ts: now, app: 'x' }, ts: now, size: 1025, indexes: 2 }) })
  add('index', 'chain-head-bytes-message', { type: 5, index: 0, message: H(rng.bytes(30)) }, { note: 'index 0 with raw bytes: decode tries JSON, keeps bytes' })
  add('index', 'chain-head-bytes-that-are-json', { type: 5, index: 0, message: H(Buffer.from('{"meta":{},"size":1}')) }, { note: 'index 0: bytes parsed as JSON on decode' })
  add('index', 'fragment-bytes', { type: 5, index: 1, previousId: H(rng.bytes(32)), packetId: H(rng.bytes(32)), nextId: H(rng.bytes(32)), message: H(rng.bytes(1024)) })
  add('index', 'fragment-json-object', { type: 5, index: 1, message: J({ a: 1 }) }, { note: 'index > 0 with an object message: encode throws' })
  add('index', 'fragment-json-array', { type: 5, index: 2, message: J([1, 2, 255]) }, { note: 'index > 0: an array goes through Buffer.from' })
  add('index', 'fragment-str', { type: 6, index: 1, message: S('fragment text') })
  add('index', 'fragment-number', { type: 5, index: 1, message: J(42) }, { note: 'index > 0 with a number: encode throws' })
  add('index', 'index-0.5-json-bytes', { type: 5, index: 0.5, message: H(Buffer.from('{"a":1}')) }, { note: 'index 0.5 is written as 0, so decode parses the bytes as JSON' })
  add('index', 'index--0.5-object', { type: 5, index: -0.5, message: J({ a: 1 }) })

  // ---- integer header fields
  const ints = [
    ['clock', 0], ['clock', 1], ['clock', 1.5], ['clock', 2e9, Q('§10.6 clock wraps to 0 at exactly 2e9')], ['clock', 2e9 + 1, Q('§10.6 2e9+1 does not wrap')],
    ['clock', 2e9 - 1], ['clock', 2 ** 32 - 1], ['clock', 2 ** 32, { note: 'error' }], ['clock', -1, { note: 'error' }],
    ['hops', 0], ['hops', 16], ['hops', 2 ** 32 - 1], ['hops', 2 ** 32, { note: 'error' }],
    ['ttl', 0, { note: '§2.3 ttl 0 stays 0 on the wire' }], ['ttl', 1], ['ttl', 2 ** 32 - 1], ['ttl', 2 ** 32, { note: 'error' }], ['ttl', 1.9],
    ['version', 0], ['version', 7], ['version', 65535], ['version', 65536, { note: 'error' }], ['version', -1, { note: 'error' }]
  ]
  for (const [k, v, extra] of ints) {
    add('header', `${k}-${v}`, { type: rng.pick([5, 6, 7]), [k]: v, message: H(rng.bytes(8)) }, extra || {})
  }
  add('header', 'clock-2e9-ping', { type: 1, clock: 2e9, message: J({ requesterPeerId: pid() }) }, Q('§10.6'))

  // ---- field widths
  const idFields = ['clusterId', 'subclusterId', 'previousId', 'packetId', 'nextId', 'usr1', 'usr2', 'usr3', 'usr4']
  for (const f of idFields) {
    if (['clusterId', 'packetId', 'usr4'].includes(f)) add('width', `${f}-32-bytes`, { type: 5, [f]: H(rng.bytes(32)), message: H(rng.bytes(5)) })
    add('width', `${f}-33-bytes`, { type: 5, [f]: H(rng.bytes(33)), message: H(rng.bytes(5)) }, { note: 'over the maximum: error' })
    add('width', `${f}-empty-bytes`, { type: 6, [f]: H(''), message: H(rng.bytes(5)) }, { note: 'empty byte array: zero-length field' })
    if (['subclusterId', 'nextId', 'usr2'].includes(f)) add('width', `${f}-empty-str`, { type: 7, [f]: S(''), message: H(rng.bytes(5)) }, { note: 'empty string is falsy: default 00' })
  }
  add('width', 'sig-64-bytes', { type: 5, sig: H(rng.bytes(64)), message: H(rng.bytes(5)) })
  add('width', 'sig-65-bytes', { type: 5, sig: H(rng.bytes(65)), message: H(rng.bytes(5)) }, { note: 'error' })
  add('width', 'sig-empty-bytes', { type: 5, sig: H(''), message: H(rng.bytes(5)) })
  add('width', 'packetId-1-byte-nonzero', { type: 5, packetId: H('01'), message: H(rng.bytes(5)) }, { note: 'only exactly 00 triggers rule (a)' })
  add('width', 'packetId-00', { type: 5, packetId: H('00'), previousId: H(rng.bytes(32)), nextId: H(rng.bytes(32)), message: H(rng.bytes(5)) }, { note: 'rule (a) covers previousId and nextId' })
  add('width', 'packetId-0000', { type: 5, packetId: H('0000'), message: H(rng.bytes(5)) })

  // ---- string-valued byte fields (§10.1, §10.2)
  const q1 = Q('§10.1 length prefix is the UTF-16 length of the string', '§10.2 encoding labels')
  add('string-field', 'previousId-hex-string-64', { type: 5, previousId: S(rng.hex(32)), message: H(rng.bytes(5)) }, q1)
  add('string-field', 'nextId-hex-string-abcd', { type: 5, nextId: S('abcd'), message: H(rng.bytes(5)) }, q1)
  add('string-field', 'packetId-hex-string-odd', { type: 5, packetId: S('abc'), message: H(rng.bytes(5)) }, q1)
  add('string-field', 'packetId-hex-string-nonhex', { type: 5, packetId: S('zz'), message: H(rng.bytes(5)) }, q1)
  add('string-field', 'clusterId-base64-string', { type: 5, clusterId: S(b64(rng.bytes(32))), message: H(rng.bytes(5)) }, q1)
  add('string-field', 'clusterId-base64-short', { type: 5, clusterId: S('AAEC'), message: H(rng.bytes(5)) }, q1)
  add('string-field', 'subclusterId-base64-unpadded', { type: 5, subclusterId: S('AAECAw'), message: H(rng.bytes(5)) }, q1)
  add('string-field', 'usr1-ascii-string', { type: 5, usr1: S(String(now)), message: H(rng.bytes(5)) }, { note: 'ASCII strings in utf8 fields encode correctly' })
  add('string-field', 'usr1-non-ascii-string', { type: 5, usr1: S('héllo'), message: H(rng.bytes(5)) }, Q('§10.1 non-ASCII string is cut short'))
  add('string-field', 'usr2-emoji-string', { type: 5, usr2: S('a😀b'), message: H(rng.bytes(5)) }, Q('§10.1'))
  add('string-field', 'usr4-string-33-chars', { type: 8, usr4: S('x'.repeat(33)) }, { note: 'over the maximum: error' })
  add('string-field', 'sig-string', { type: 5, sig: S('signature'), message: H(rng.bytes(5)) })
  add('string-field', 'usr3-json-array', { type: 5, usr3: J([1, 2, 3]), message: H(rng.bytes(5)) }, { note: 'an array goes through Buffer.from' })

  // ---- message as str / hex / json for each type
  for (const t of [5, 6, 7, 8]) {
    add('message-form', 'str-ascii', { type: t, message: S('hello world') })
    add('message-form', 'str-non-ascii', { type: t, message: S('héllo wörld') }, Q('§10.1 UTF-16 length prefix truncates the UTF-8 bytes'))
    add('message-form', 'hex', { type: t, message: H(rng.bytes(12)) })
    add('message-form', 'json-object', { type: t, message: J({ a: 1, b: 'two', c: [true, null] }) })
    add('message-form', 'json-array', { type: t, message: J([1, 'x', {}]) })
    add('message-form', 'json-string', { type: t, message: J('plain string') })
    add('message-form', 'json-number-42', { type: t, message: J(42) }, Q('§10.7 numbers go through String()'))
    add('message-form', 'json-true', { type: t, message: J(true) }, Q('§10.7'))
  }
  for (const t of [1, 2, 3, 4]) {
    add('message-form', 'str', { type: t, message: S('{"requesterPeerId":"' + pid() + '"}') }, { note: 'a JSON string is not an object: construct error' })
    add('message-form', 'hex', { type: t, message: H(rng.bytes(8)) }, { note: 'bytes are not an object: construct error' })
    add('message-form', 'json-array', { type: t, message: J([]) }, { note: 'construct error' })
  }
  add('message-form', 'str-large-non-ascii-ok', { type: 5, message: S('é'.repeat(512)) }, Q('§10.1 1024 bytes under a length of 512'))
  add('message-form', 'str-large-non-ascii-over', { type: 5, message: S('é'.repeat(513)) }, Q('§2.4 the byte check fires although the UTF-16 length is 513'))
  add('message-form', 'str-surrogate-pair', { type: 6, message: S('😀😀') }, Q('§10.1'))

  // ---- falsy messages (§10.3)
  for (const t of [5, 6, 7, 8]) {
    add('falsy', 'message-empty-str', { type: t, message: S('') }, Q('§10.3 falsy message: 2423 zero bytes'))
    add('falsy', 'message-null', { type: t, message: J(null) }, Q('§10.3'))
  }
  add('falsy', 'message-0', { type: 5, message: J(0) }, Q('§10.3'))
  add('falsy', 'message-false', { type: 6, message: J(false) }, Q('§10.3'))
  add('falsy', 'ping-message-null', { type: 1, message: J(null) }, { note: 'types 1-4 reject a null message at construction' })

  // ---- validation (§3.0)
  const q14 = Q('§10.14 validation stops at the first absent optional key')
  const peer = pid()
  add('validation', 'ping-missing-requester', { type: 1, message: J({ natType: 7 }) })
  add('validation', 'ping-unknown-key-port', { type: 1, message: J({ requesterPeerId: peer, port: 1234 }) }, { note: 'port is not an allowed Ping key' })
  add('validation', 'ping-unknown-key-isHeartbeat', { type: 1, message: J({ requesterPeerId: peer, isHeartbeat: true }) }, { note: '§9.7' })
  add('validation', 'ping-bad-peerid-63', { type: 1, message: J({ requesterPeerId: peer.slice(1) }) })
  add('validation', 'ping-bad-peerid-type', { type: 1, message: J({ requesterPeerId: 12345 }) })
  add('validation', 'ping-uppercase-peerid', { type: 1, message: J({ requesterPeerId: peer.toUpperCase() }) }, Q('§10.18 upper case accepted'))
  add('validation', 'ping-natType-null-early-stop', { type: 1, message: J({ requesterPeerId: peer, natType: null, uptime: 0, timestamp: now }) }, q14)
  add('validation', 'ping-natType-2-early-stop', { type: 1, message: J({ requesterPeerId: peer, natType: 2 }) }, q14)
  add('validation', 'ping-bad-hash', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: 'xyz' }) })
  add('validation', 'ping-hash-then-stop', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), reflectionId: 'bad', natType: 'x' }) }, q14)
  add('validation', 'ping-all-keys-natType-2', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 4000, reflectionId: rid(), pingId: rid(), natType: 2 }) }, { note: 'every earlier key present, so natType is checked' })
  add('validation', 'ping-all-keys-natType-null', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 4000, reflectionId: rid(), pingId: rid(), natType: null }) })
  add('validation', 'ping-all-keys-valid', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 4000, reflectionId: rid(), pingId: rid() + 'a', natType: 31, uptime: 1, cacheSize: 2, isConnection: false, isReflection: false, isProbe: false, isDebug: true, timestamp: now }) })
  add('validation', 'ping-all-keys-uptime-string', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 4000, reflectionId: rid(), pingId: rid(), natType: 31, uptime: '1' }) })
  add('validation', 'ping-probe-port-0', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 0 }) })
  add('validation', 'ping-probe-port-65536', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 65536 }) })
  add('validation', 'ping-probe-port-fraction', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 80.5 }) })
  add('validation', 'ping-pingId-13', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 1, reflectionId: rid(), pingId: rng.hex(7).slice(0, 13) }) })
  add('validation', 'ping-pingId-14', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 1, reflectionId: rid(), pingId: rng.hex(7) }) })
  add('validation', 'ping-natType-37', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 1, reflectionId: rid(), pingId: rid(), natType: 37 }) }, Q('§10.17 NAT.isValid accepts 37'))
  add('validation', 'ping-natType-5.5', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 1, reflectionId: rid(), pingId: rid(), natType: 5.5 }) }, Q('§10.17'))
  add('validation', 'ping-natType--1', { type: 1, message: J({ requesterPeerId: peer, cacheSummaryHash: hash40(), probeExternalPort: 1, reflectionId: rid(), pingId: rid(), natType: -1 }) }, Q('§10.17'))
  add('validation', 'pong-missing-responder', { type: 2, message: J({ requesterPeerId: peer }) })
  add('validation', 'pong-reflection-bad-reflectionId', { type: 2, message: J({ responderPeerId: pid(), requesterPeerId: peer, cacheSummaryHash: hash40(), port: 1, address: 'x', uptime: 0, cacheSize: 0, reflectionId: 'nothex', isReflection: true }) }, Q('§10.16 stops at natType, reflectionId never checked'))
  add('validation', 'pong-port-string', { type: 2, message: J({ responderPeerId: pid(), requesterPeerId: peer, cacheSummaryHash: hash40(), port: '80' }) })
  add('validation', 'pong-natType-null-plain', { type: 2, message: J({ responderPeerId: pid(), requesterPeerId: peer, cacheSummaryHash: hash40(), port: 1, address: 'a', uptime: 0, cacheSize: 0, natType: null }) }, { note: 'natType is reached and null is not a number' })
  add('validation', 'pong-non-ascii-address', { type: 2, message: J({ responderPeerId: pid(), requesterPeerId: peer, cacheSummaryHash: hash40(), port: 1, address: 'é' }) }, Q('§10.13 non-ASCII JSON cannot be decoded'))
  add('validation', 'pong-rejected-key', { type: 2, message: J({ requesterPeerId: peer, responderPeerId: pid(), cacheSummaryHash: hash40(), port: 1, address: 'a', uptime: 1, cacheSize: 1, natType: 7, isReflection: false, isConnection: false, reflectionId: rid(), pingId: rid(), isDebug: false, isProbe: false, rejected: true }) })
  add('validation', 'intro-no-isRendezvous-early-stop', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid() }) }, Q('§10.14 required natType/address/port skipped'))
  add('validation', 'intro-missing-natType', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: false, address: 'a', port: 1 }) })
  add('validation', 'intro-natType-2', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: false, natType: 2, address: 'a', port: 1 }) })
  add('validation', 'intro-natType-null', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: false, natType: null, address: 'a', port: 1 }) })
  add('validation', 'intro-port-0', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: true, natType: 7, address: 'a', port: 0 }) })
  add('validation', 'intro-port-65535', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: true, natType: 7, address: 'a', port: 65535 }) })
  add('validation', 'intro-port-65536', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: true, natType: 7, address: 'a', port: 65536 }) })
  add('validation', 'intro-port--1', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: true, natType: 7, address: 'a', port: -1 }) })
  add('validation', 'intro-missing-port', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: true, natType: 7, address: 'a' }) })
  add('validation', 'intro-with-timestamp', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: true, natType: 7, address: 'a', port: 9, timestamp: now }) })
  add('validation', 'intro-timestamp-string', { type: 3, message: J({ requesterPeerId: peer, responderPeerId: pid(), isRendezvous: true, natType: 7, address: 'a', port: 9, timestamp: 'now' }) })
  add('validation', 'join-empty-object', { type: 4, message: J({}) }, Q('§10.14 §10.15 a Join {} is accepted'))
  add('validation', 'join-J1-garbage', { type: 4, message: J({ requesterPeerId: 'nope', natType: 'x', address: 5, port: -3, key: 7 }) }, Q('§10.15 J1 is not validated'))
  add('validation', 'join-unknown-key', { type: 4, message: J({ requesterPeerId: peer, natType: 7, address: 'a', port: 1, initial: true }) }, { note: 'initial was allowed in 0.5.4 only' })
  add('validation', 'join-rendezvous-port-0', { type: 4, message: J({ rendezvousAddress: 'a', rendezvousPort: 0 }) })
  add('validation', 'join-rendezvous-stop', { type: 4, message: J({ rendezvousAddress: 'a', rendezvousPort: 5, rendezvousType: 31, rendezvousPeerId: peer, rendezvousDeadline: now, requesterPeerId: 'bad' }) }, Q('§10.14 stops at rendezvousRequesterPeerId'))
  add('validation', 'join-full-bad-requester', { type: 4, message: J({ rendezvousAddress: 'a', rendezvousPort: 5, rendezvousType: 31, rendezvousPeerId: peer, rendezvousDeadline: now, rendezvousRequesterPeerId: pid(), requesterPeerId: 'bad', natType: 7, address: 'a', port: 1 }) })
  add('validation', 'join-full-missing-port', { type: 4, message: J({ rendezvousAddress: 'a', rendezvousPort: 5, rendezvousType: 31, rendezvousPeerId: peer, rendezvousDeadline: now, rendezvousRequesterPeerId: pid(), requesterPeerId: pid(), natType: 7, address: 'a', key: 'k' }) })
  add('validation', 'join-full-valid', { type: 4, message: J({ rendezvousAddress: 'a', rendezvousPort: 5, rendezvousType: 31, rendezvousPeerId: peer, rendezvousDeadline: now, rendezvousRequesterPeerId: pid(), requesterPeerId: pid(), natType: 7, address: 'a', key: 'k', port: 1, isConnection: true }) })
  add('validation', 'join-non-ascii-address', { type: 4, message: J({ requesterPeerId: peer, natType: 7, address: '東京', port: 1 }) }, Q('§10.13'))

  // ---- random packets
  for (let i = 0; i < 20; i++) {
    const t = rng.pick([5, 5, 6, 7, 8])
    const f = { type: t }
    if (rng.bool(0.4)) f.clock = rng.pick([0, 1, rng.int(1, 100), rng.int(0, 2 ** 32 - 1)])
    if (rng.bool(0.4)) f.hops = rng.int(0, 16)
    if (rng.bool(0.3)) f.ttl = rng.int(0, 21600000)
    for (const k of idFields) if (rng.bool(0.4)) f[k] = H(rng.bytes(rng.pick([0, 1, rng.int(1, 32), 32, 32])))
    if (rng.bool(0.3)) f.sig = H(rng.bytes(rng.pick([0, 64, rng.int(1, 64)])))
    const m = rng.int(0, 3)
    if (m === 0) f.message = H(rng.bytes(rng.int(0, 1024)))
    else if (m === 1) f.message = S(rng.word(1, 200))
    else if (m === 2) f.message = J({ [rng.word()]: rng.int(0, 1e9), [rng.word()]: rng.word() })
    if (rng.bool(0.2)) f.index = rng.pick([0, 1, rng.int(2, 50)])
    if (f.index > 0 && m === 2) f.message = H(rng.bytes(rng.int(1, 1024)))
    add('random', `random-${i}`, f)
  }
  for (let i = 0; i < 8; i++) {
    const t = rng.pick([1, 2, 3, 4])
    const msg = t === 1
      ? { requesterPeerId: pid(), natType: nat(), uptime: rng.int(0, 1e7), timestamp: ts() }
      : t === 2
        ? { cacheSize: rng.int(0, 99), uptime: rng.int(0, 1e7), responderPeerId: pid(), requesterPeerId: pid(), port: port(), address: rng.ipv4(), natType: nat(), cacheSummaryHash: hash40() }
        : t === 3
          ? { requesterPeerId: pid(), responderPeerId: pid(), isRendezvous: false, natType: nat(), address: rng.ipv4(), port: port() }
          : { requesterPeerId: pid(), natType: nat(), address: rng.ipv4(), port: port(), key: `${b64(rng.bytes(32))}:${b64(rng.bytes(32))}` }
    add('random', `random-control-${i}`, { type: t, clock: rng.int(1, 1000), clusterId: H(rng.bytes(32)), subclusterId: H(rng.bytes(32)), message: J(msg) })
  }
  return cases
}

// ---------------------------------------------------------------------------
// packet.decode

const setU16 = (buf, off, v) => { const b = Buffer.from(buf); b.writeUInt16BE(v, off); return b }

export function buildDecodeCases (rng, ctx) {
  const cases = []
  const add = (category, name, hexOrBuf, extra = {}) => {
    const hex = Buffer.isBuffer(hexOrBuf) ? hexOrBuf.toString('hex') : hexOrBuf
    cases.push({ name: `decode/${name}`, category, kind: 'packet.decode', ...extra, input: { hex } })
  }
  const Q = (...notes) => ({ quirk: true, note: notes.join(' ') })
  const { encoded } = ctx // [{name, buf, type}] accepted encode outputs
  const byName = n => encoded.find(e => e.name === n)
  const now = ctx.fixedNow

  // ---- valid packets of every type (from the encode cases), up to 5 per type
  for (let t = 1; t <= 8; t++) {
    const ofType = encoded.filter(e => e.type === t && e.buf.length <= 2000)
    for (const e of rng.sample(ofType, 5)) add('roundtrip', `valid/${e.name.replace(/^encode\//, '')}`, e.buf)
  }

  // ---- every truncation point of two packets
  const sync = byName('encode/sync/spec-2.9-default-sync').buf
  for (let n = 0; n <= sync.length; n++) add('truncation', `truncate/default-sync/${n}`, sync.subarray(0, n), n > 23 && n >= sync.length - 1 && n < sync.length ? Q('§10.8 short final sig field accepted') : {})
  // smallest decodable frame: every variable field empty (45 bytes, §2.2)
  const minimal = Buffer.concat([Buffer.from('03050b1105000600000001000000000000000001499700', 'hex'), Buffer.alloc(22)])
  minimal.writeInt32BE(-1, 15)
  if (minimal.length !== 45) throw new Error('minimal frame is not 45 bytes')
  for (let n = 0; n <= minimal.length; n++) add('truncation', `truncate/minimal-45/${n}`, minimal.subarray(0, n))
  const pub = byName('encode/publish/spec-2.8-publish-hello').buf
  const pubInfo = walkFrame(pub)
  const pubPoints = new Set([0, 3, 4, 5, 22, 23, 24, 25, 26, pub.length - 4, pub.length - 3, pub.length - 2, pub.length - 1, pub.length])
  for (const f of pubInfo.fields) { pubPoints.add(f.lenOffset); pubPoints.add(f.lenOffset + 1); pubPoints.add(f.dataOffset + Math.floor(f.len / 2)) }
  while (pubPoints.size < 30) pubPoints.add(rng.int(0, pub.length))
  for (const n of [...pubPoints].sort((a, b) => a - b)) add('truncation', `truncate/publish-2.8/${n}`, pub.subarray(0, n), n === pub.length - 1 ? Q('§10.8') : {})

  // a signed packet: cut into the 64-byte sig
  const signed = encoded.find(e => e.name.startsWith('encode/publish/publish-signed'))
  if (signed) {
    for (const cut of [1, 10, 63, 64, 65, 66]) {
      const b = signed.buf.subarray(0, signed.buf.length - cut)
      add('truncation', `truncate/signed-publish/minus-${cut}`, b, cut <= 64 ? Q('§10.8 truncated sig accepted') : {})
    }
  }

  // ---- magic and type byte
  const ping = byName('encode/ping/spec-2.9-ping').buf
  for (let i = 0; i < 4; i++) { const b = Buffer.from(ping); b[i] ^= 0x01; add('magic', `bad-magic-byte-${i}`, b) }
  add('magic', 'magic-only', Buffer.from([3, 5, 11, 17]))
  add('magic', 'magic-plus-type', Buffer.from([3, 5, 11, 17, 5]))
  add('magic', 'empty', Buffer.alloc(0))
  add('magic', 'zeros-2423', Buffer.alloc(2423), Q('§10.3 what encode returns for a falsy message'))
  for (const t of [0, 9, 255]) {
    const b = Buffer.from(sync); b[4] = t; add('type', `unknown-type-${t}`, b)
  }
  for (let t = 1; t <= 8; t++) {
    const b = Buffer.from(sync); b[4] = t; add('type', `default-sync-as-type-${t}`, b, { note: 'the 1-byte 00 message under each type' })
  }
  { const b = Buffer.from(pub); b.writeUInt16BE(7, 5); add('header', 'version-7-accepted', b, { note: 'the decoder does not check version' }) }
  { const b = Buffer.from(pub); b.writeUInt32BE(2e9, 7); add('header', 'clock-2e9-on-wire', b, Q('§10.6 re-encoding wraps a received 2e9 to 0')) }
  { const b = Buffer.from(pub); b.writeInt32BE(0, 15); add('header', 'publish-index-0-raw-message', b, { note: 'index 0: message tried as JSON' }) }
  { const b = Buffer.from(pub); b.writeInt32BE(5, 15); add('header', 'publish-index-5', b) }
  { const b = Buffer.from(pub); b.writeUInt32BE(0xffffffff, 11); add('header', 'hops-max', b) }

  // ---- length prefixes: max+1, 0xffff, 0 for each field of two packets
  for (const [label, base] of [['sync', sync], ['publish', pub]]) {
    const info = walkFrame(base)
    for (const f of info.fields) {
      add('length-prefix', `${label}/${f.name}-len-max+1`, setU16(base, f.lenOffset, f.max + 1))
      add('length-prefix', `${label}/${f.name}-len-ffff`, setU16(base, f.lenOffset, 0xffff))
      if (label === 'publish') {
        const z = Buffer.concat([base.subarray(0, f.lenOffset), Buffer.from([0, 0]), base.subarray(f.dataOffset + f.len)])
        add('length-prefix', `${label}/${f.name}-empty`, z)
      }
    }
  }
  { const info = walkFrame(pub); const m = info.fields.find(f => f.name === 'message'); add('length-prefix', 'publish/message-len-plus-1', setU16(pub, m.lenOffset, m.len + 1), { note: 'fields shift by one byte' }) }

  // ---- trailing bytes
  add('trailing', 'sync-plus-1', Buffer.concat([sync, Buffer.from([0xff])]), Q('§10.8 bytes after sig are ignored'))
  add('trailing', 'ping-plus-100', Buffer.concat([ping, rng.bytes(100)]), Q('§10.8'))
  add('trailing', 'publish-plus-frame', Buffer.concat([pub, pub]), Q('§10.8 a second frame after the first is ignored'))

  // ---- hand-made frames with chosen messages
  const frame = (type, message, opt = {}) => {
    const parts = [Buffer.from([3, 5, 11, 17, type])]
    const hdr = Buffer.alloc(18)
    hdr.writeUInt16BE(opt.version ?? 6, 0)
    hdr.writeUInt32BE(opt.clock ?? 1, 2)
    hdr.writeUInt32BE(opt.hops ?? 0, 6)
    hdr.writeInt32BE(opt.index ?? -1, 10)
    hdr.writeUInt32BE(opt.ttl ?? 21600000, 14)
    parts.push(hdr)
    const field = b => { const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]) }
    const ids = opt.ids || {}
    for (const k of ['clusterId', 'subclusterId', 'previousId', 'packetId', 'nextId', 'usr1', 'usr2', 'usr3', 'usr4']) parts.push(field(ids[k] || Buffer.from([0])))
    parts.push(field(Buffer.isBuffer(message) ? message : Buffer.from(message, 'utf8')))
    parts.push(field(opt.sig || Buffer.from([0])))
    return Buffer.concat(parts)
  }
  const P = rng.hex(32)
  const R = rng.hex(32)
  const jsonCases = [
    ['ping-whitespace', 1, `{ "requesterPeerId" : "${P}" ,\n "natType" : 7 }`, {}],
    ['ping-duplicate-keys', 1, `{"requesterPeerId":"${'0'.repeat(64)}","natType":7,"requesterPeerId":"${P}"}`, { note: 'JSON.parse keeps the last value at the first position' }],
    ['ping-escaped-key', 1, `{"\\u0072equesterPeerId":"${P}","natType":7}`, {}],
    ['ping-unicode-escape-value', 1, `{"requesterPeerId":"\\u0030${P.slice(1)}"}`, {}],
    ['pong-unicode-escape-non-ascii', 2, `{"requesterPeerId":"${P}","responderPeerId":"${R}","cacheSummaryHash":"${rng.hex(20)}","port":1,"address":"caf\\u00e9"}`, Q('§10.13 re-encoding writes raw UTF-8 under a UTF-16 length')],
    ['pong-raw-utf8', 2, Buffer.from(`{"requesterPeerId":"${P}","responderPeerId":"${R}","cacheSummaryHash":"${rng.hex(20)}","port":1,"address":"café"}`, 'utf8'), Q('§10.13')],
    ['ping-number-1e3', 1, `{"requesterPeerId":"${P}","natType":7,"uptime":1e3,"timestamp":1.0}`, {}],
    ['ping-number-negative-zero', 1, `{"requesterPeerId":"${P}","uptime":-0}`, {}],
    ['ping-number-1e400', 1, `{"requesterPeerId":"${P}","uptime":1e400}`, { note: 'Infinity: JSON.stringify writes null' }],
    ['ping-number-big-int', 1, `{"requesterPeerId":"${P}","uptime":12345678901234567890}`, {}],
    ['ping-number-fraction', 1, `{"requesterPeerId":"${P}","uptime":0.1,"timestamp":1700000000000.5}`, {}],
    ['ping-nested-value-rejected', 1, `{"requesterPeerId":"${P}","cacheSummaryHash":{"a":1}}`, {}],
    ['ping-integer-like-key', 1, `{"requesterPeerId":"${P}","1":true}`, { note: 'unknown key' }],
    ['query-integer-like-keys', 8, `{"b":1,"1":"one","a":2,"0":"zero"}`, { note: 'JS puts integer-like keys first' }],
    ['query-nested', 8, `{"a":{"b":[1,2,{"c":null,"d":[[],{}]}]},"e":"\\n\\t\\"\\\\"}`, {}],
    ['query-escaped-slash', 8, `{"url":"a\\/b","u":"\\u2603"}`, Q('§10.13 the re-encoded snowman is cut short')],
    ['query-deep-number', 8, `{"x":1E+2,"y":-1.5e-3,"z":0.000001,"w":1e21}`, {}],
    ['query-array', 8, '[1,2,3]', {}],
    ['query-string', 8, '"just a string"', {}],
    ['query-number', 8, '42', {}],
    ['query-true', 8, 'true', {}],
    ['query-null', 8, 'null', Q('§10.3 parsed to null, re-encoded as 2423 zero bytes')],
    ['query-zero', 8, '0', Q('§10.3')],
    ['query-false', 8, 'false', Q('§10.3')],
    ['query-empty-string', 8, '""', Q('§10.3')],
    ['query-leading-space', 8, '  {"a":1}  ', {}],
    ['query-bom', 8, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]), { note: 'JSON.parse fails on a BOM: kept as bytes' }],
    ['query-invalid-json', 8, '{"a":1', {}],
    ['query-invalid-utf8', 8, Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), Q('§10.13 replacement characters re-encode cut short')],
    ['query-empty-message', 8, '', {}],
    ['query-raw-answer-bytes', 8, rng.bytes(40), {}],
    ['query-raw-answer-json-like', 8, Buffer.from('[0]'), Q('§3.8 a raw answer that is valid JSON is parsed')],
    ['ping-invalid-json', 1, `{"requesterPeerId":"${P}"`, {}],
    ['ping-array', 1, `["${P}"]`, {}],
    ['ping-null', 1, 'null', {}],
    ['ping-string', 1, `"${P}"`, {}],
    ['ping-invalid-utf8', 1, Buffer.concat([Buffer.from(`{"requesterPeerId":"${P.slice(0, 63)}`), Buffer.from([0xc3]), Buffer.from('"}')]), {}],
    ['pong-invalid-utf8-address', 2, Buffer.concat([Buffer.from(`{"requesterPeerId":"${P}","responderPeerId":"${R}","cacheSummaryHash":"${rng.hex(20)}","port":1,"address":"`), Buffer.from([0xff]), Buffer.from('"}')]), Q('§10.13')],
    ['intro-invalid-json', 3, '{', {}],
    ['join-empty-object', 4, '{}', Q('§10.14 §10.15')],
    ['join-not-object', 4, '[]', {}],
    ['join-empty-message', 4, '', {}],
    ['publish-invalid-json-bytes', 5, '{"a":', {}],
    ['publish-json-bytes-index-minus-1', 5, '{"a":1}', { note: 'type 5 with index -1: raw bytes, never parsed' }],
    ['stream-bytes', 6, rng.bytes(50), {}],
    ['sync-json-looking', 7, '{"a":1}', {}]
  ]
  for (const [name, type, msg, extra] of jsonCases) add('json', `json/${name}`, frame(type, msg), extra)
  add('json', 'json/publish-head-valid', frame(5, JSON.stringify({ meta: {}, ts: now, size: 1500, indexes: 2 }), { index: 0 }))
  add('json', 'json/publish-head-invalid', frame(5, '{"meta":', { index: 0 }))
  add('json', 'json/publish-head-null', frame(5, 'null', { index: 0 }), Q('§10.3'))
  add('json', 'json/stream-head-array', frame(6, '[1,2]', { index: 0 }))
  add('json', 'json/sync-head-number', frame(7, '7', { index: 0 }), Q('§10.7'))
  add('json', 'json/query-index-3-object', frame(8, '{"a":1}', { index: 3 }), { note: 'parsed (type 8) but an object cannot be re-encoded at index > 0' })
  add('json', 'json/query-index-3-array', frame(8, '[1,2]', { index: 3 }))
  add('json', 'json/query-index-3-string', frame(8, '"ab"', { index: 3 }))
  add('json', 'json/query-index-3-number', frame(8, '5', { index: 3 }))
  add('json', 'json/publish-packetId-00', frame(5, 'abc'), { note: 'a received packetId of 00 is recomputed on re-encode' })
  add('json', 'json/publish-all-empty-fields', frame(5, '', { ids: Object.fromEntries(['clusterId', 'subclusterId', 'previousId', 'packetId', 'nextId', 'usr1', 'usr2', 'usr3', 'usr4'].map(k => [k, Buffer.alloc(0)])), sig: Buffer.alloc(0) }), { note: 'smallest frame: 45 bytes' })
  add('json', 'json/join-non-ascii-raw', frame(4, Buffer.from(JSON.stringify({ requesterPeerId: P, natType: 7, address: '東京', port: 1 }), 'utf8')), Q('§10.13'))

  // ---- random mutations of valid packets
  const bases = encoded.filter(e => e.buf.length <= 1500)
  const ops = ['flip', 'flip', 'insert', 'delete', 'prefix', 'prefix', 'overwrite', 'truncate', 'append', 'dup']
  for (let i = 0; i < 100; i++) {
    const base = rng.pick(bases)
    const buf = Buffer.from(base.buf)
    const op = rng.pick(ops)
    let out
    let what
    if (op === 'flip') {
      const pos = rng.int(0, buf.length - 1); const bit = rng.int(0, 7)
      buf[pos] ^= 1 << bit; out = buf; what = `flip bit ${bit} of byte ${pos}`
    } else if (op === 'insert') {
      const pos = rng.int(0, buf.length); const b = rng.int(0, 255)
      out = Buffer.concat([buf.subarray(0, pos), Buffer.from([b]), buf.subarray(pos)]); what = `insert ${b} at ${pos}`
    } else if (op === 'delete') {
      const pos = rng.int(0, buf.length - 1); const n = rng.int(1, 3)
      out = Buffer.concat([buf.subarray(0, pos), buf.subarray(pos + n)]); what = `delete ${n} at ${pos}`
    } else if (op === 'prefix') {
      const info = walkFrame(buf)
      const f = rng.pick(info.fields)
      let v = f.len
      while (v === f.len) v = Math.max(0, Math.min(0xffff, rng.pick([0, 1, f.len - 1, f.len + 1, f.max, f.max + 1, rng.int(0, f.max + 2), 0xffff, f.len + rng.int(2, 40)])))
      out = setU16(buf, f.lenOffset, v); what = `${f.name} length ${f.len} -> ${v}`
    } else if (op === 'overwrite') {
      const pos = rng.int(0, buf.length - 1); const n = rng.int(1, 8)
      const r = rng.bytes(n); r.copy(buf, pos); out = buf; what = `overwrite ${n} bytes at ${pos}`
    } else if (op === 'truncate') {
      const n = rng.int(0, buf.length - 1); out = buf.subarray(0, n); what = `truncate to ${n}`
    } else if (op === 'append') {
      const n = rng.int(1, 64); out = Buffer.concat([buf, rng.bytes(n)]); what = `append ${n} bytes`
    } else {
      const a = rng.int(23, buf.length - 1); const n = rng.int(1, 16)
      out = Buffer.concat([buf.subarray(0, a), buf.subarray(a, a + n), buf.subarray(a)]); what = `duplicate ${n} bytes at ${a}`
    }
    add('mutation', `mutation/${i}-${op}`, out, { note: `${what} of ${base.name}` })
  }

  return cases
}

// Quirk labels decided from the frame layout and the reference's verdict, in
// addition to the ones the builders set.
function addNotes (c, notes) {
  if (!notes.length) return
  c.quirk = true
  let note = c.note || ''
  for (const n of notes) {
    const tag = n.split(' ')[0]
    if (!note.includes(tag)) note = note ? `${note}; ${n}` : n
  }
  c.note = note
}

function frameMessageJson (buf) {
  const info = walkFrame(buf)
  const m = info.fields.find(f => f.name === 'message')
  if (!m) return { ok: false }
  try {
    return { ok: true, value: JSON.parse(buf.subarray(m.dataOffset, m.dataOffset + m.available).toString()) }
  } catch {
    return { ok: false }
  }
}

function lenientNote (type, msg) {
  const why = strictProblem(type, msg)
  if (!why) return null
  return `§10.14-§10.18 lenient validation (a strict reading rejects it: ${why})`
}

export function labelDecodeQuirk (c) {
  if (!c.expected.accepted) return
  const buf = Buffer.from(c.input.hex, 'hex')
  const info = walkFrame(buf)
  const notes = []
  if (info.complete && info.sigShort) notes.push('§10.8 truncated sig accepted')
  if (info.complete && info.trailing > 0) notes.push('§10.8 trailing bytes ignored')
  const re = c.expected.reencoded
  if (re && re.hex && re.hex.length === 2423 * 2 && /^0+$/.test(re.hex)) notes.push('§10.3 re-encoded as 2423 zero bytes')
  const d = c.expected.decoded
  const m = d.message
  if (m && typeof m === 'object' && /[^\x00-\x7f]/.test(JSON.stringify(m.json) ?? '')) notes.push('§10.13 non-ASCII JSON re-encodes cut short')
  if (d.clock === 2e9) notes.push('§10.6 re-encoding wraps clock 2e9 to 0')
  if (d.type >= 1 && d.type <= 4) {
    const parsed = frameMessageJson(buf)
    const n = parsed.ok ? lenientNote(d.type, parsed.value) : null
    if (n) notes.push(n)
  }
  addNotes(c, notes)
  if ([1, 2, 3, 4, 8].includes(d.type) || d.index === 0) {
    const parsed = frameMessageJson(buf)
    if (parsed.ok && Array.isArray(parsed.value) && typeof m === 'string') addPlainNote(c, ARRAY_NOTE)
  }
}

const ARRAY_NOTE = 'a JSON array message becomes bytes (the Packet constructor runs Buffer.from on arrays; not in the spec)'
function addPlainNote (c, n) {
  if (!(c.note || '').includes(n)) c.note = c.note ? `${c.note}; ${n}` : n
}

export function labelEncodeQuirk (c) {
  const e = c.expected
  const f = c.input.fields
  const notes = []
  if (e.hex && e.length === 2423 && /^0+$/.test(e.hex)) notes.push('§10.3 falsy message: 2423 zero bytes')
  if (f.clock === 2e9 && !e.error) notes.push('§10.6 clock 2e9 written as 0')
  if (!e.error && f.type >= 1 && f.type <= 4 && f.message && 'json' in f.message) {
    const n = lenientNote(f.type, f.message.json)
    if (n) notes.push(n)
  }
  addNotes(c, notes)
  if (f.message && 'json' in f.message && Array.isArray(f.message.json)) addPlainNote(c, ARRAY_NOTE)
}

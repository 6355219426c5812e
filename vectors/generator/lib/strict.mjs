// A strict reading of the message tables of spec §3.1-§3.4: every key is
// checked (no early stop), ids must be lower-case hex, natType must be a real
// NAT type. Used only to LABEL cases: a control message the reference accepts
// but this strict reading rejects exercises the lenient validation quirks
// (§10.14 early stop, §10.15 Joins, §10.16 reflection Pongs, §10.17
// NAT.isValid, §10.18 upper-case ids). Verdicts always come from the reference.
const peerId = v => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
const hash40 = v => typeof v === 'string' && /^[0-9a-f]{40}$/.test(v)
const rid = v => typeof v === 'string' && /^[0-9a-f]{12}$/.test(v)
const pingId = v => typeof v === 'string' && /^[0-9a-f]{12,13}$/.test(v)
const port = v => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535
const NAT_TYPES = new Set([5, 7, 13, 15, 29, 31])
const nat = v => NAT_TYPES.has(v)

const T = (type, check, required = false) => ({ type, check, required })
const TABLES = {
  1: {
    requesterPeerId: T('string', peerId, true),
    cacheSummaryHash: T('string', hash40),
    probeExternalPort: T('number', port),
    reflectionId: T('string', rid),
    pingId: T('string', pingId),
    natType: T('number', nat),
    uptime: T('number'),
    cacheSize: T('number'),
    isConnection: T('boolean'),
    isReflection: T('boolean'),
    isProbe: T('boolean'),
    isDebug: T('boolean'),
    timestamp: T('number')
  },
  2: {
    requesterPeerId: T('string', peerId, true),
    responderPeerId: T('string', peerId, true),
    cacheSummaryHash: T('string', hash40),
    port: T('number'),
    address: T('string'),
    uptime: T('number'),
    cacheSize: T('number'),
    natType: T('number', nat),
    isReflection: T('boolean'),
    isConnection: T('boolean'),
    reflectionId: T('string', rid),
    pingId: T('string', pingId),
    isDebug: T('boolean'),
    isProbe: T('boolean'),
    rejected: T('boolean')
  },
  3: {
    requesterPeerId: T('string', peerId, true),
    responderPeerId: T('string', peerId, true),
    isRendezvous: T('boolean'),
    natType: T('number', nat, true),
    address: T('string', null, true),
    port: T('number', port, true),
    timestamp: T('number')
  },
  4: {
    rendezvousAddress: T('string'),
    rendezvousPort: T('number', port),
    rendezvousType: T('number', nat),
    rendezvousPeerId: T('string', peerId),
    rendezvousDeadline: T('number'),
    rendezvousRequesterPeerId: T('string', peerId),
    requesterPeerId: T('string', peerId, true),
    natType: T('number', nat, true),
    address: T('string', null, true),
    key: T('string'),
    port: T('number', port, true),
    isConnection: T('boolean')
  }
}

const jsType = v => v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v

// Returns null when the message passes the strict reading, else a short reason.
export function strictProblem (type, msg) {
  const table = TABLES[type]
  if (!table) return null
  if (jsType(msg) !== 'object') return 'not an object'
  for (const k of Object.keys(msg)) if (!(k in table)) return `unknown key ${k}`
  for (const [k, c] of Object.entries(table)) {
    if (!(k in msg)) {
      if (c.required) return `${k} missing`
      continue
    }
    const v = msg[k]
    if (jsType(v) !== c.type) return `${k} has type ${jsType(v)}`
    if (c.check && !c.check(v)) return `${k} = ${JSON.stringify(v)} fails the strict check`
  }
  return null
}

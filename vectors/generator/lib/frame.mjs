// A small independent walker over the v6 frame layout (spec §2.1/§2.2), used
// only to aim mutations at length prefixes and to label quirk cases. The
// verdicts in the vector file always come from the reference itself.
export const VAR_FIELDS = [
  ['clusterId', 32], ['subclusterId', 32], ['previousId', 32], ['packetId', 32], ['nextId', 32],
  ['usr1', 32], ['usr2', 32], ['usr3', 32], ['usr4', 32], ['message', 1024], ['sig', 64]
]
export const HEADER_BYTES = 23

export function walkFrame (buf) {
  const info = { fields: [], end: null, complete: false, trailing: 0, sigShort: false }
  if (buf.length < HEADER_BYTES) return info
  let off = HEADER_BYTES
  for (const [name, max] of VAR_FIELDS) {
    if (off + 2 > buf.length) return info
    const len = buf.readUInt16BE(off)
    const available = Math.max(0, Math.min(len, buf.length - off - 2))
    info.fields.push({ name, max, lenOffset: off, len, dataOffset: off + 2, available })
    off += 2 + len
  }
  info.complete = true
  info.end = off
  info.trailing = Math.max(0, buf.length - off)
  const sig = info.fields[info.fields.length - 1]
  info.sigShort = sig.available < sig.len
  return info
}

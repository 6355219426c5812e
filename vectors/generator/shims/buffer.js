// Shim for `../buffer.js` as imported by the reference's latica/*.js.
// Written for streamrelay's vector generator (not part of the reference).
// The socket runtime ships its own Buffer; under node we use node's Buffer,
// which is what the spec's "(verified)" claims were checked with.
import { Buffer } from 'node:buffer'

export { Buffer }
export default Buffer

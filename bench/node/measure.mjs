// The timing loop shared by the node benches (codec-bench.mjs,
// peer-bench.mjs): a warm-up that lets V8 optimise and calibrates a batch of
// ~timeMs/20, then batches until timeMs is spent; the figure is the median
// ns/op over the batches.
let sink = 0
const now = () => process.hrtime.bigint()

// Runs fn n times; returns elapsed ns. An async fn is awaited each time;
// `settle` (optional, async) runs once after the batch, inside the timing
// (for work the op leaves queued, e.g. the reference's un-awaited mcast).
async function runBatch (fn, isAsync, n, settle) {
  const t0 = now()
  if (isAsync) {
    for (let i = 0; i < n; i++) {
      const r = await fn()
      sink ^= r && r.length ? r.length : 1
    }
  } else {
    for (let i = 0; i < n; i++) sink ^= fn() ? 1 : 0
  }
  if (settle) await settle()
  return Number(now() - t0)
}

// { ns (median), min, max, batches, batch }. `before` (optional, async)
// runs before each batch, outside the timing.
export async function measureOp (fn, isAsync, { timeMs = 1000, warmupMs = 300, settle = null, before = null } = {}) {
  let n = 1
  const warmEnd = Date.now() + warmupMs
  let perOp = 0
  while (Date.now() < warmEnd) {
    if (before) await before()
    const ns = await runBatch(fn, isAsync, n, settle)
    perOp = ns / n
    if (ns < 1e6) n *= 2
  }
  const batch = Math.max(1, Math.round((timeMs * 1e6) / 20 / Math.max(perOp, 1)))
  const samples = []
  const end = Date.now() + timeMs
  while (Date.now() < end || samples.length < 5) {
    if (before) await before()
    samples.push((await runBatch(fn, isAsync, batch, settle)) / batch)
  }
  samples.sort((a, b) => a - b)
  const mid = samples.length >> 1
  const median = samples.length % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2
  if (sink === 0.5) console.log('') // keep the sink alive
  return { ns: median, min: samples[0], max: samples[samples.length - 1], batches: samples.length, batch }
}

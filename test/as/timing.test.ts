import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { basic, makeApp, register } from './support.js'

/**
 * AS-BP-06 / issue 10: "unknown client and wrong secret fail alike and in the same time".
 *
 * What makes them equal is by construction: both paths read the client through the same cache
 * (an unknown id is remembered like a known one), hash the presented secret with SHA-256 and compare
 * 43-character digests with `timingSafeEqual` (the unknown path against a dummy digest), then throw
 * the same error. This test guards against a regression that adds work to one path only — a store
 * round trip for unknown ids, a slow hash skipped for them, an early return — by comparing the two
 * latency distributions.
 *
 * How: the two cases alternate in small batches (so drift of a shared, busy 2-core machine hits
 * both alike), and the medians of the per-batch means are compared. The bound is generous (the
 * ratio within 0.67-1.5) because a timing test must not be flaky; an extra store read or a skipped
 * hash shows up as a larger ratio than that on a warm in-process path of ~10-30 µs... except a
 * skipped SHA-256 of 43 bytes (about 1 µs), which is why the equal work is also guaranteed by the
 * code, not only measured here.
 */
describe('AS-BP-06: unknown client and wrong secret take the same time', () => {
  it('medians of interleaved batches agree within a generous bound', async () => {
    // thousands of failures: without this, both cases would soon be the failure limit's 429
    // (AS-6749-2.3.1-c, failure-limit.test.ts), and the credential paths would go unmeasured
    const app = await makeApp({ clientAuthentication: { failureLimit: { perClient: { max: 0 } } } })
    try {
      const c = await register(app)
      const wrong = { headers: { authorization: basic(c.client_id, 'x'.repeat(43)) }, body: {} }
      const unknown = {
        headers: { authorization: basic('y'.repeat(43), 'x'.repeat(43)) },
        body: {},
      }
      const batch = async (request: typeof wrong, n: number) => {
        const t0 = process.hrtime.bigint()
        for (let i = 0; i < n; i++) await app.authenticateClient(request).catch(() => {})
        return Number(process.hrtime.bigint() - t0) / n
      }
      await batch(wrong, 300) // warm-up: JIT, caches (both ids end up cached: one as unknown)
      await batch(unknown, 300)
      const median = (xs: number[]) =>
        [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number
      // A busy machine (CI neighbours, another test file on the other core) can skew one whole
      // measurement; a regression skews every one. So up to three measurements, and one within the
      // bound passes.
      let ratio = Number.NaN
      let detail = ''
      for (let attempt = 0; attempt < 3; attempt++) {
        const a: number[] = []
        const b: number[] = []
        for (let round = 0; round < 40; round++) {
          if (round % 2 === 0) {
            a.push(await batch(wrong, 50))
            b.push(await batch(unknown, 50))
          } else {
            b.push(await batch(unknown, 50))
            a.push(await batch(wrong, 50))
          }
        }
        ratio = median(b) / median(a)
        detail += ` unknown ${Math.round(median(b))} ns vs wrong secret ${Math.round(median(a))} ns (ratio ${ratio.toFixed(2)});`
        if (ratio > 0.67 && ratio < 1.5) break
      }
      assert.ok(ratio > 0.67 && ratio < 1.5, detail)
    } finally {
      await app.close()
    }
  })
})

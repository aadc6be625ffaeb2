// A node:test reporter that ends the run with what was not run and why, grouped by reason, so
// that a run without PostgreSQL or Redis says so in its last lines instead of one "# reason"
// among hundreds of passing tests. It runs beside the spec reporter (see scripts/test.js).

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* skipSummary(source) {
  /** @type {Map<string, string[]>} skip reason → names of what it skipped */
  const byReason = new Map()
  let count = 0
  for await (const { type, data } of source) {
    if (type !== 'test:pass' || !data.skip) continue
    const reason = data.skip === true ? '(no reason given)' : String(data.skip)
    const suite =
      data.details?.type === 'suite' ? ' (a whole suite: its tests are not counted)' : ''
    byReason.set(reason, [...(byReason.get(reason) ?? []), `${data.name}${suite}`])
    count += 1
  }
  if (count === 0) return
  let out = `\nNot run here (${count} skipped, counted in "skipped" above):\n`
  for (const [reason, names] of byReason) {
    out += `﹣ ${reason}\n${names.map((n) => `    ${n}\n`).join('')}`
  }
  yield out
}

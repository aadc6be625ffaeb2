import { describe, it } from 'node:test'

/**
 * A suite that needs a service (PostgreSQL, Redis, server binaries). When `skip` gives a reason,
 * the suite is one skipped test carrying it: node:test counts a skipped `describe` as nothing at
 * all, so a run without the service would otherwise look complete (issue 12 item 20).
 */
export function serviceSuite(name: string, skip: string | false, fn: () => void): void {
  if (skip === false) describe(name, fn)
  else
    describe(name, () => {
      it(`${name}: every test (needs a service that is not here)`, { skip }, () => {})
    })
}

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { epochSeconds } from '../../src/shared/epoch.js'
import { openStore } from '../../src/storage/open-store.js'
import { runCli, tempDir } from '../helpers.js'
import { client } from '../storage/store.contract.js'

const DAY = 86_400

describe('registrar clients list --idle and clients sweep: bad input and edge cases', () => {
  const scratch = tempDir('registrar-cli-lifecycle-')
  const store = `sqlite:${join(scratch.dir, 'registrar.db')}`
  before(async () => {
    const s = await openStore(store)
    const now = epochSeconds()
    await s.createClient(client('idle-one', { updatedAt: now - 40 * DAY }))
    await s.createClient(client('busy-one', { updatedAt: now - 40 * DAY }))
    await s.recordClientUse('busy-one', now - DAY, 0)
    await s.close()
  })
  after(() => scratch.cleanup())

  it('--idle must be a duration: a usage error (exit 2), nothing listed', async () => {
    for (const bad of ['30', 'thirty', '0d', '-3d', '30y']) {
      const r = await runCli(['clients', 'list', `--idle=${bad}`, '--store', store])
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`)
      assert.match(r.stderr, /--idle must be a duration such as 90m, 24h or 30d/)
      assert.equal(r.stdout, '')
    }
  })

  it('--idle --json lists the candidates as the admin API shows clients, never a credential', async () => {
    const r = await runCli(['clients', 'list', '--idle', '30d', '--json', '--store', store])
    assert.equal(r.code, 0, r.stderr)
    const listed = JSON.parse(r.stdout) as { client_id: string }[]
    assert.deepEqual(
      listed.map((c) => c.client_id),
      ['idle-one'],
    )
    assert.doesNotMatch(r.stdout, /rat-hash/)
  })

  it('with idle expiry configured nowhere, sweep says so and deletes nothing', async () => {
    const r = await runCli(['clients', 'sweep', '--store', store])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /idle expiry is off/)
    const listed = await runCli(['clients', 'list', '--idle', '30d', '--store', store])
    assert.match(listed.stdout, /^idle-one /m)
  })

  it('sweep --json with REGISTRAR_CONFIG: the expired clients as JSON; unknown flags are usage errors', async () => {
    const { writeFileSync } = await import('node:fs')
    const config = join(scratch.dir, 'config.json')
    writeFileSync(config, JSON.stringify({ store, lifecycle: { expireUnusedAfter: 30 * DAY } }))
    const bad = await runCli(['clients', 'sweep', '--now'], { env: { REGISTRAR_CONFIG: config } })
    assert.equal(bad.code, 2)
    const dry = await runCli(['clients', 'sweep', '--dry-run', '--json'], {
      env: { REGISTRAR_CONFIG: config },
    })
    assert.equal(dry.code, 0, dry.stderr)
    assert.deepEqual(
      (JSON.parse(dry.stdout) as { client_id: string }[]).map((c) => c.client_id),
      ['idle-one'],
    )
    const r = await runCli(['clients', 'sweep', '--json'], { env: { REGISTRAR_CONFIG: config } })
    assert.equal(r.code, 0, r.stderr)
    const expired = JSON.parse(r.stdout) as { client_id: string; expire_unused_after: number }[]
    assert.deepEqual(
      expired.map((c) => [c.client_id, c.expire_unused_after]),
      [['idle-one', 30 * DAY]],
    )
    const again = await runCli(['clients', 'sweep', '--json'], {
      env: { REGISTRAR_CONFIG: config },
    })
    assert.deepEqual(JSON.parse(again.stdout), [])
  })

  it('--help lists both commands', async () => {
    const r = await runCli(['clients', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /registrar clients list --idle 30d/)
    assert.match(r.stdout, /registrar clients sweep \[--dry-run\] \[--json\]/)
  })
})

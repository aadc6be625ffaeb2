import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { SWEEP_LOCKED } from '../../src/cli/clients.js'
import { SWEEP_LOCK } from '../../src/core/client-lifecycle.js'
import { epochSeconds } from '../../src/shared/epoch.js'
import { openStore } from '../../src/storage/open-store.js'
import { holdExclusive, runCli, tempDir } from '../helpers.js'
import {
  createTestDatabase,
  postgresTarget,
  type TestDatabase,
} from '../storage/postgres-helper.js'
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
    const json = await runCli(['clients', 'sweep', '--json', '--store', store])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout), { ran: false, reason: 'off', clients: [] })
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
    const planned = JSON.parse(dry.stdout) as Swept
    assert.equal(planned.ran, true)
    assert.equal(planned.dry_run, true)
    assert.deepEqual(
      planned.clients.map((c) => c.client_id),
      ['idle-one'],
    )
    const r = await runCli(['clients', 'sweep', '--json'], { env: { REGISTRAR_CONFIG: config } })
    assert.equal(r.code, 0, r.stderr)
    const swept = JSON.parse(r.stdout) as Swept
    assert.equal(swept.ran, true)
    assert.equal(swept.dry_run, false)
    assert.deepEqual(
      swept.clients.map((c) => [c.client_id, c.expire_unused_after]),
      [['idle-one', 30 * DAY]],
    )
    // nothing idle left: it ran and found nothing, which --json tells apart from a sweep that
    // did not run
    const again = await runCli(['clients', 'sweep', '--json'], {
      env: { REGISTRAR_CONFIG: config },
    })
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(JSON.parse(again.stdout), { ran: true, dry_run: false, clients: [] })
  })

  it('--help lists both commands, and the exit code of a sweep that did not run', async () => {
    const r = await runCli(['clients', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /registrar clients list --idle 30d/)
    assert.match(r.stdout, /registrar clients sweep \[--dry-run\] \[--json\]/)
    assert.match(r.stdout, /3 another sweep holds the\s+lock \(PostgreSQL\): this one did not run/)
    assert.match(r.stdout, /\{"ran": false, "reason": "locked" \| "off", "clients": \[\]\}/)
  })
})

interface Swept {
  ran: boolean
  dry_run?: boolean
  reason?: string
  clients: { client_id: string; expire_unused_after: number }[]
}

describe('registrar clients sweep while another sweep holds the lock (PostgreSQL), review finding 6', async () => {
  const target = await postgresTarget()
  let db: TestDatabase | undefined
  before(async () => {
    target.assertAvailable()
    db = await createTestDatabase(target.url as string)
  })
  after(async () => {
    await db?.drop()
  })

  it(`exits ${SWEEP_LOCKED}, deletes nothing, and --json says it did not run`, {
    skip: target.skip,
  }, async () => {
    const url = (db as TestDatabase).url
    const scratch = tempDir('registrar-cli-sweep-locked-')
    const config = join(scratch.dir, 'config.json')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(
      config,
      JSON.stringify({ store: url, lifecycle: { expireUnusedAfter: 30 * DAY } }),
    )
    const env = { REGISTRAR_CONFIG: config }
    const store = await openStore(url)
    try {
      await store.createClient(client('idle-pg', { updatedAt: epochSeconds() - 40 * DAY }))
      const release = await holdExclusive(store, SWEEP_LOCK)
      try {
        const json = await runCli(['clients', 'sweep', '--json'], { env })
        assert.equal(json.code, SWEEP_LOCKED, json.stderr)
        assert.deepEqual(JSON.parse(json.stdout), { ran: false, reason: 'locked', clients: [] })
        assert.match(
          json.stderr,
          /another sweep holds the lock on this store; this one did not run/,
        )
        const text = await runCli(['clients', 'sweep'], { env })
        assert.equal(text.code, SWEEP_LOCKED, text.stderr)
        assert.equal(text.stdout, '')
        // a dry run changes nothing and takes no lock: it still answers
        const dry = await runCli(['clients', 'sweep', '--dry-run', '--json'], { env })
        assert.equal(dry.code, 0, dry.stderr)
        assert.deepEqual(
          (JSON.parse(dry.stdout) as Swept).clients.map((c) => c.client_id),
          ['idle-pg'],
        )
        assert.ok(await store.findClient('idle-pg'))
      } finally {
        await release()
      }
      // the lock free again, the same command sweeps
      const r = await runCli(['clients', 'sweep', '--json'], { env })
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(
        (JSON.parse(r.stdout) as Swept).clients.map((c) => c.client_id),
        ['idle-pg'],
      )
      assert.equal(await store.findClient('idle-pg'), undefined)
    } finally {
      await store.close()
      scratch.cleanup()
    }
  })
})

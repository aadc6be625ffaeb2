import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { DEFAULTS, resolveConfig } from '../../src/config/resolve.js'
import { SWEEP_LOCK } from '../../src/core/client-lifecycle.js'
import { epochSeconds } from '../../src/shared/epoch.js'
import { openStore } from '../../src/storage/open-store.js'
import { call, childEnv, holdExclusive, ISSUER, tempDir } from '../helpers.js'
import { CLIENTS } from '../interop/real-client-payloads.js'
import {
  createTestDatabase,
  postgresTarget,
  type TestDatabase,
} from '../storage/postgres-helper.js'
import { client } from '../storage/store.contract.js'

/**
 * docs/lifecycle.md stays true to the code: its configuration is valid and means what the text
 * says, its key table gives the real defaults, and every command it shows runs, verbatim, against
 * a seeded store with the output the text describes.
 */

const ROOT = new URL('../../', import.meta.url).pathname
const DOC = readFileSync(join(ROOT, 'docs/lifecycle.md'), 'utf8')
const DAY = 86_400

function fenced(lang: string): string[] {
  return [...DOC.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!)
}

function sh(
  command: string,
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-euo', 'pipefail', '-c', command], { cwd, env: childEnv(env) })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => {
      stdout += d
    })
    p.stderr.on('data', (d) => {
      stderr += d
    })
    p.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('docs/lifecycle.md', () => {
  const config = JSON.parse(fenced('json')[0] as string)

  it('the configuration is valid, and expires MCP clients after 30 days, partners never, others after a year', () => {
    const c = resolveConfig({ file: { issuer: ISSUER, ...config } })
    assert.equal(c.policies.definitions['mcp-clients']?.expireUnusedAfter, 30 * DAY)
    assert.equal(c.policies.definitions['mcp-clients']?.clientSecretExpiresIn, 90 * DAY)
    assert.equal(c.policies.definitions.partners?.expireUnusedAfter, 0)
    assert.equal(c.lifecycle.expireUnusedAfter, 365 * DAY)
  })

  it('the key table gives the real defaults', () => {
    const rows = [...DOC.matchAll(/^\| `(lifecycle\.[A-Za-z]+)` +\| `(\d+)`/gm)]
    assert.equal(rows.length, 4)
    for (const [, key, value] of rows) {
      const name = (key as string).split('.')[1] as keyof typeof DEFAULTS.lifecycle
      assert.equal(DEFAULTS.lifecycle[name], Number(value), key)
    }
  })

  it('every command runs verbatim and prints what the text says', async () => {
    const commands = (fenced('sh')[0] as string)
      .split('\n')
      .map((l) => l.replace(/ +#.*$/, '').trim())
      .filter(Boolean)
    assert.equal(commands.length, 4)
    const scratch = tempDir('registrar-lifecycle-doc-')
    try {
      symlinkSync(join(ROOT, 'bin'), join(scratch.dir, 'bin'))
      writeFileSync(join(scratch.dir, 'registrar.json'), JSON.stringify(config))
      const now = epochSeconds()
      const store = await openStore(`sqlite:${join(scratch.dir, 'data/registrar.db')}`)
      const seed = (id: string, daysAgo: number, policy?: string, status?: 'pending') =>
        store.createClient(
          client(id, {
            client_id_issued_at: now - daysAgo * DAY,
            updatedAt: now - daysAgo * DAY,
            ...(policy !== undefined && { policy }),
            ...(status !== undefined && { status }),
          }),
        )
      await seed('mcp-idle-40d', 40, 'mcp-clients')
      await seed('mcp-used-recently', 40, 'mcp-clients')
      await store.recordClientUse('mcp-used-recently', now - 2 * DAY, 0)
      await seed('mcp-fresh-10d', 10, 'mcp-clients')
      await seed('mcp-pending-40d', 40, 'mcp-clients', 'pending')
      await seed('partner-400d', 400, 'partners')
      await seed('other-400d', 400)
      await seed('other-100d', 100)
      await store.close()

      const run = async (i: number) => {
        const r = await sh(commands[i] as string, scratch.dir)
        assert.equal(r.code, 0, `${commands[i]}: ${r.stderr}`)
        return r.stdout
      }
      const listed = await run(0)
      for (const id of ['mcp-idle-40d', 'partner-400d', 'other-400d', 'other-100d']) {
        assert.match(listed, new RegExp(`^${id} `, 'm'), id)
      }
      for (const id of ['mcp-used-recently', 'mcp-fresh-10d', 'mcp-pending-40d']) {
        assert.doesNotMatch(listed, new RegExp(id), id)
      }
      const dry = await run(1)
      assert.match(dry, /^would expire mcp-idle-40d \(-; policy mcp-clients; last used -\)$/m)
      assert.match(dry, /^would expire other-400d /m)
      assert.match(dry, /^2 clients would expire \(dry run: nothing deleted\)$/m)
      const swept = await run(2)
      assert.match(swept, /^expired mcp-idle-40d /m)
      assert.match(swept, /^expired other-400d /m)
      assert.match(swept, /^2 clients expired$/m)
      const audit = await run(3)
      assert.match(audit, /expired +mcp-idle-40d +system:idle-expiry/)
      assert.match(audit, /expired +other-400d +system:idle-expiry/)

      const after = await openStore(`sqlite:${join(scratch.dir, 'data/registrar.db')}`)
      try {
        assert.equal(await after.findClient('mcp-idle-40d'), undefined)
        assert.equal(await after.findClient('other-400d'), undefined)
        assert.equal(await after.countClients(), 5)
      } finally {
        await after.close()
      }
      // a second sweep has nothing left to do
      assert.match(await run(2), /^0 clients expired$/m)
    } finally {
      scratch.cleanup()
    }
  })
})

describe('docs/lifecycle.md: clients sweep that did not run (review finding 6)', async () => {
  const config = JSON.parse(fenced('json')[0] as string)
  const [cron] = (fenced('sh')[1] as string)
    .split('\n')
    .map((l) => l.replace(/ +#.*$/, '').trim())
    .filter(Boolean)
  /** The `--json` cell of the row of the exit-code table with this exit code. */
  const row = (exit: number) => {
    const m = new RegExp(`^\\|[^|]+\\| \`${exit}\` +\\| \`(\\{.*\\})\` +\\|$`, 'm').exec(DOC)
    return m?.[1] as string
  }
  const target = await postgresTarget()
  let db: TestDatabase | undefined
  before(async () => {
    target.assertAvailable()
    if (!target.skip) db = await createTestDatabase(target.url as string)
  })
  after(async () => {
    await db?.drop()
  })

  it('the cron line succeeds when the sweep ran, as the table says', async () => {
    const scratch = tempDir('registrar-lifecycle-doc-cron-')
    try {
      symlinkSync(join(ROOT, 'bin'), join(scratch.dir, 'bin'))
      writeFileSync(join(scratch.dir, 'registrar.json'), JSON.stringify(config))
      await (await openStore(`sqlite:${join(scratch.dir, 'data/registrar.db')}`)).close()
      const r = await sh(cron as string, scratch.dir)
      assert.equal(r.code, 0, r.stderr)
      const out = JSON.parse(readFileSync(join(scratch.dir, 'sweep.json'), 'utf8'))
      assert.deepEqual(out, { ...JSON.parse(row(0).replace('[...]', '[]')), clients: [] })
      // the table's row for idle expiry configured nowhere
      writeFileSync(join(scratch.dir, 'registrar.json'), JSON.stringify({ store: config.store }))
      assert.equal((await sh(cron as string, scratch.dir)).code, 0)
      const off = JSON.parse(readFileSync(join(scratch.dir, 'sweep.json'), 'utf8'))
      const offRow = [...DOC.matchAll(/^\|[^|]+\| `0` +\| `(\{.*\})` +\|$/gm)][1]?.[1] as string
      assert.deepEqual(off, JSON.parse(offRow))
    } finally {
      scratch.cleanup()
    }
  })

  it('exit 3 while another sweep holds the lock (PostgreSQL): the cron line succeeds, nothing is deleted, the JSON says it did not run', {
    skip: target.skip,
  }, async () => {
    const url = (db as TestDatabase).url
    const scratch = tempDir('registrar-lifecycle-doc-locked-')
    const store = await openStore(url)
    try {
      symlinkSync(join(ROOT, 'bin'), join(scratch.dir, 'bin'))
      writeFileSync(join(scratch.dir, 'registrar.json'), JSON.stringify(config))
      await store.createClient(client('other-400d', { updatedAt: epochSeconds() - 400 * DAY }))
      const release = await holdExclusive(store, SWEEP_LOCK)
      try {
        // REGISTRAR_STORE (over the file's store): the same command on PostgreSQL
        const r = await sh(cron as string, scratch.dir, { REGISTRAR_STORE: url })
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stderr, /this one did not run \(exit 3\)/)
        const out = JSON.parse(readFileSync(join(scratch.dir, 'sweep.json'), 'utf8'))
        assert.deepEqual(out, JSON.parse(row(3)))
        assert.ok(await store.findClient('other-400d'))
        // without the `|| test $? -eq 3`, the exit code itself
        const bare = await sh((cron as string).split(' > ')[0] as string, scratch.dir, {
          REGISTRAR_STORE: url,
        })
        assert.equal(bare.code, 3, bare.stderr)
      } finally {
        await release()
      }
      const r = await sh(cron as string, scratch.dir, { REGISTRAR_STORE: url })
      assert.equal(r.code, 0, r.stderr)
      const out = JSON.parse(readFileSync(join(scratch.dir, 'sweep.json'), 'utf8'))
      assert.deepEqual(
        out.clients.map((c: { client_id: string }) => c.client_id),
        ['other-400d'],
      )
    } finally {
      await store.close()
      scratch.cleanup()
    }
  })
})

describe('docs/security.md "A ready config for an MCP server": idle expiry', () => {
  it('an MCP client registered under it and unused for 30 days is swept; one used meanwhile stays', async () => {
    const readme = readFileSync(join(ROOT, 'docs/security.md'), 'utf8')
    const section = readme.split('### A ready config for an MCP server')[1] ?? ''
    const mcp = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)?.[1] ?? '{}')
    assert.equal(mcp.policies.definitions['mcp-clients'].expireUnusedAfter, 30 * DAY)
    let now = 1_900_000_000
    const { MemoryStore } = await import('../../src/storage/memory.js')
    const app = composeRegistrar(
      { ...resolveConfig({ file: mcp }), issuer: mcp.issuer },
      new MemoryStore(),
      { clock: () => now },
    )
    try {
      const claude = CLIENTS.find((c) => c.name === 'Claude Code')?.body
      const unused = await call(app.fetch, 'POST', '/register', { body: claude })
      const used = await call(app.fetch, 'POST', '/register', { body: claude })
      assert.equal(unused.status, 201)
      now += 20 * DAY
      await app.recordUse(used.body.client_id)
      // exactly 30 days is not yet idle: the cut-off is exclusive
      now += 10 * DAY
      assert.deepEqual((await app.operations.lifecycle.sweep()).clients, [])
      now += 1
      const result = await app.operations.lifecycle.sweep()
      assert.deepEqual(
        result.clients.map((c) => c.client_id),
        [unused.body.client_id],
      )
      assert.equal(await app.getClient(unused.body.client_id), undefined)
      assert.ok(await app.getClient(used.body.client_id))
    } finally {
      await app.close()
    }
  })
})

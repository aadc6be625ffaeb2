import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startServer } from '../helpers.js'

describe('access log buffering', () => {
  it('a request is in the log within a second, while the server keeps running', async () => {
    const server = await startServer(['--store', 'memory', '--registration', 'open'], {
      env: { REGISTRAR_LOG_LEVEL: 'info' },
    })
    try {
      const res = await fetch(`${server.url}/healthz`)
      assert.equal(res.status, 200)
      await sleep(1000)
      const lines = server
        .stderr()
        .split('\n')
        .filter((l) => l.includes('"path":"/healthz"'))
      assert.equal(lines.length, 1, server.stderr())
    } finally {
      await server.stop()
    }
  })
})

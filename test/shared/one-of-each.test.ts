import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { discover } from '../../src/client/index.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { RegistrationError } from '../../src/core/errors.js'
import { readStream, StreamTooLargeError } from '../../src/net/read-stream.js'
import { epochSeconds } from '../../src/shared/epoch.js'
import { isLoopbackHost, LOOPBACK_HOSTS } from '../../src/shared/loopback.js'
import { isPrototypeName } from '../../src/shared/prototype-names.js'
import { readLimited } from '../../src/shared/read-limited.js'
import { ISSUER } from '../helpers.js'

// Issue 12 item 21: what was written more than once now exists once. Each block pins the single
// implementation, and that no second copy is left in src/.

const SRC = new URL('../../src/', import.meta.url).pathname

function sources(dir = SRC): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sources(path)
    return e.name.endsWith('.ts')
      ? [{ path: path.slice(SRC.length), text: readFileSync(path, 'utf8') }]
      : []
  })
}

/** Files of src/ other than `except` whose text matches `re`. */
function copiesOf(re: RegExp, except: string): string[] {
  return sources()
    .filter((f) => f.path !== except && re.test(f.text))
    .map((f) => f.path)
}

function stream(chunks: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  let i = 0
  let cancelled = false
  const s = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++] as Uint8Array)
      else if (fail) controller.error(fail)
      else controller.close()
    },
    cancel() {
      cancelled = true
    },
  })
  return Object.assign(s, { wasCancelled: () => cancelled })
}

describe('src/shared/ is runtime-neutral (it is used by registrar/client)', () => {
  it('imports nothing from Node and nothing outside src/shared/', () => {
    for (const f of sources(join(SRC, 'shared'))) {
      assert.doesNotMatch(f.text, /from 'node:|\bBuffer\b|\bprocess\./, f.path)
      for (const [, spec] of f.text.matchAll(/from '([^']+)'/g)) {
        assert.match(spec as string, /^\.\/[\w-]+\.js$/, `${f.path} imports ${spec}`)
      }
    }
  })
})

describe('one bounded reader per stream kind (issue 12 item 21)', () => {
  const big = () => new RegistrationError('invalid_request', 'too large', { status: 413 })

  it('readLimited: reads a web stream to its end, in order', async () => {
    const bytes = await readLimited(
      stream([Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5)]),
      5,
      { tooLarge: big },
    )
    assert.deepEqual([...bytes], [1, 2, 3, 4, 5])
    assert.deepEqual([...(await readLimited(null, 5, { tooLarge: big }))], [])
  })

  it('readLimited: past the limit it cancels the stream and throws tooLarge()', async () => {
    const s = stream([new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)])
    await assert.rejects(readLimited(s, 6, { tooLarge: big }), { status: 413 })
    assert.equal((s as unknown as { wasCancelled: () => boolean }).wasCancelled(), true)
  })

  it('readLimited: a failing stream rejects with failed(cause), or the cause itself', async () => {
    const cause = new Error('connection reset')
    await assert.rejects(
      readLimited(stream([Uint8Array.of(1)], cause), 10, {
        tooLarge: big,
        failed: (c) => new RegistrationError('invalid_request', 'incomplete', { cause: c }),
      }),
      { error_description: 'incomplete' },
    )
    await assert.rejects(readLimited(stream([], cause), 10, { tooLarge: big }), cause)
  })

  it('registrar/client reads responses through it: a body over 1 MiB is invalid_response', async () => {
    const chunk = new Uint8Array(256 * 1024).fill(0x20)
    const huge = () => new Response(stream(Array.from({ length: 8 }, () => chunk)), { status: 200 })
    await assert.rejects(discover(ISSUER, { fetch: async () => huge() }), {
      error: 'invalid_response',
      error_description: 'the response body is larger than 1 MiB',
    })
  })

  it('readStream: reads a Node stream; past the limit StreamTooLargeError; errors pass through', async () => {
    const buf = await readStream(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4)
    assert.equal(buf.toString(), 'abcd')
    await assert.rejects(
      readStream(Readable.from([Buffer.alloc(3), Buffer.alloc(3)]), 4),
      StreamTooLargeError,
    )
    const failing = new Readable({
      read() {
        this.destroy(new Error('aborted'))
      },
    })
    await assert.rejects(readStream(failing, 4), /aborted/)
  })

  it('no other bounded reader is left: getReader() and data listeners only in the two', () => {
    assert.deepEqual(copiesOf(/\.getReader\(\)/, 'shared/read-limited.ts'), [])
    assert.deepEqual(copiesOf(/\.on\('data'/, 'net/read-stream.ts'), [])
  })
})

describe('one loopback-host list (issue 12 item 21)', () => {
  it('localhost, 127.0.0.1 and [::1], as URL.hostname spells them', () => {
    assert.deepEqual([...LOOPBACK_HOSTS], ['localhost', '127.0.0.1', '[::1]'])
    for (const url of ['http://localhost:1/', 'http://127.0.0.1/', 'http://[::1]:8080/cb']) {
      assert.equal(isLoopbackHost(new URL(url).hostname), true, url)
    }
    for (const url of ['http://127.0.0.2/', 'http://localhost.example/', 'http://[::2]/']) {
      assert.equal(isLoopbackHost(new URL(url).hostname), false, url)
    }
  })

  it('the configuration, the metadata rules and the client all use it, and define no other', () => {
    assert.deepEqual(copiesOf(/'127\.0\.0\.1',\s*'\[::1\]'/, 'shared/loopback.ts'), [])
    // the issuer of a development server, on every loopback host
    for (const issuer of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000']) {
      assert.equal(resolveConfig({ file: { issuer } }).issuer, issuer)
    }
  })
})

describe('one prototype-name guard (issue 12 item 21)', () => {
  it('__proto__, constructor and prototype, and nothing else', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      assert.equal(isPrototypeName(name), true)
    }
    for (const name of ['proto', 'Constructor', 'toString', 'client_name', '']) {
      assert.equal(isPrototypeName(name), false)
    }
  })

  it('extension fields refuse all three names, as the config merge does (was __proto__ only)', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      assert.throws(
        () =>
          resolveConfig({ file: { issuer: ISSUER, registration: { extensionFields: [name] } } }),
        { key: 'registration.extensionFields[0]' },
        name,
      )
    }
  })

  it('no other copy of the list is left in src/', () => {
    assert.deepEqual(
      copiesOf(/['"]__proto__['"]|['"]prototype['"]/, 'shared/prototype-names.ts'),
      [],
    )
  })
})

describe('one epoch clock (issue 12 item 21)', () => {
  it('epochSeconds() is whole seconds since the epoch', () => {
    const before = Math.floor(Date.now() / 1000)
    const now = epochSeconds()
    assert.ok(Number.isInteger(now) && now >= before && now <= before + 1)
  })

  it('no other Date.now() / 1000 is left in src/', () => {
    assert.deepEqual(copiesOf(/Date\.now\(\)\s*\/\s*1000/, 'shared/epoch.ts'), [])
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { RegistrationError } from '../../src/core/errors.js'
import { checkJsonMediaType, parseJsonObject } from '../../src/http/json-body.js'
import { call, makeRegistrar } from '../helpers.js'

const utf8 = (s: string) => new TextEncoder().encode(s)

function refusedBody(bytes: Uint8Array | string, re?: RegExp): void {
  assert.throws(
    () => parseJsonObject(typeof bytes === 'string' ? utf8(bytes) : bytes),
    (e: unknown) => {
      assert.ok(e instanceof RegistrationError, String(e))
      assert.equal(e.error, 'invalid_client_metadata')
      assert.equal(e.status, 400)
      if (re) assert.match(e.error_description ?? '', re)
      return true
    },
  )
}

function nest(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`
}

describe('parseJsonObject (RFC 7591 §3.1, RFC 8259)', () => {
  it('parses one JSON object', () => {
    assert.deepEqual(parseJsonObject(utf8('{"a":1,"b":[{"c":"d"}]}')), { a: 1, b: [{ c: 'd' }] })
    assert.deepEqual(parseJsonObject(utf8(' \n{}\t ')), {})
  })

  it('R7591-3-g C-9: a body that is not one JSON object gives 400 invalid_client_metadata', () => {
    for (const body of [
      '',
      '{',
      '[1,2]',
      '"x"',
      '1',
      'null',
      'true',
      '{}{}',
      '{"a":1,}',
      "{'a':1}",
      'NaN',
    ]) {
      refusedBody(body)
    }
    refusedBody('[1,2]', /JSON object/)
  })

  it('RFC 8259 §4: duplicate member names are refused, at any depth', () => {
    refusedBody('{"a":1,"a":2}', /duplicate/)
    refusedBody('{"redirect_uris":[],"redirect_uris":["https://x.example/cb"]}', /duplicate/)
    refusedBody('{"x":{"a":1,"b":2,"a":3}}', /duplicate/)
    refusedBody('{"x":[{"a":1},{"b":{"c":1,"c":1}}]}', /duplicate/)
    refusedBody('{"":1,"":2}', /duplicate/)
  })

  it('ROIDR-6-a: duplicates are found after removing JSON escaping', () => {
    refusedBody('{"a":1,"\\u0061":2}', /duplicate/)
    refusedBody('{"\\u0061":1,"a":2}', /duplicate/)
    refusedBody('{"client_name":"x","client_\\u006eame":"y"}', /duplicate/)
    refusedBody('{"a\\"b":1,"a\\u0022b":2}', /duplicate/)
    refusedBody('{"\\/":1,"/":2}', /duplicate/)
  })

  it('equal names in different objects, and equal strings as values, are not duplicates', () => {
    assert.deepEqual(parseJsonObject(utf8('{"x":{"a":1},"y":{"a":1}}')), {
      x: { a: 1 },
      y: { a: 1 },
    })
    assert.deepEqual(parseJsonObject(utf8('{"a":"a","b":"a"}')), { a: 'a', b: 'a' })
    assert.deepEqual(parseJsonObject(utf8('{"a":[{"a":1},{"a":2}]}')), { a: [{ a: 1 }, { a: 2 }] })
    assert.deepEqual(parseJsonObject(utf8('{"a":"{\\"a\\":1,","b":"}"}')), { a: '{"a":1,', b: '}' })
    // no normalisation: composed and decomposed forms are different names (ROIDR-6-a)
    assert.equal(Object.keys(parseJsonObject(utf8('{"caf\\u00e9":1,"cafe\\u0301":2}'))).length, 2)
  })

  it('property: a duplicate is reported exactly when two decoded member names are equal', () => {
    // every character \u-escaped: the same name in another spelling
    const escapeAll = (k: string) =>
      `"${Array.from({ length: k.length }, (_, i) => `\\u${k.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`
    const member = fc.tuple(
      fc.oneof(
        fc.constantFrom('a', 'b', '"', '\\', 'é', '\u{1F600}', ''),
        fc.string({ unit: 'binary', maxLength: 4 }),
      ),
      fc.boolean(),
      fc.jsonValue({ maxDepth: 2 }),
    )
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), fc.boolean(), (members, nested) => {
        const inner = `{${members.map(([k, esc, v]) => `${esc ? escapeAll(k) : JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`
        const text = nested ? `{"outer":[1,${inner}],"after":{}}` : inner
        const names = members.map(([k]) => k)
        const duplicate = new Set(names).size !== names.length
        let threw = false
        try {
          parseJsonObject(utf8(text))
        } catch (e) {
          assert.ok(e instanceof RegistrationError)
          assert.match(e.error_description ?? '', /duplicate/)
          threw = true
        }
        assert.equal(threw, duplicate, text)
      }),
      { seed: 8259, numRuns: 1000 },
    )
  })

  it('nesting is limited to 32 levels', () => {
    assert.doesNotThrow(() => parseJsonObject(utf8(nest(32))))
    refusedBody(nest(33), /nested/)
    refusedBody(`{"a":${'['.repeat(40)}${']'.repeat(40)}}`, /nested/)
    refusedBody(`{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, /nested/)
  })

  it('invalid UTF-8 is refused (bad bytes, overlong forms, encoded surrogates, truncation)', () => {
    const wrap = (...bytes: number[]) =>
      new Uint8Array([...utf8('{"client_name":"'), ...bytes, ...utf8('"}')])
    refusedBody(wrap(0xff), /UTF-8/)
    refusedBody(wrap(0xc0, 0xaf), /UTF-8/)
    refusedBody(wrap(0xed, 0xa0, 0x80), /UTF-8/)
    refusedBody(wrap(0xe2, 0x82), /UTF-8/)
    refusedBody(wrap(0xf4, 0x90, 0x80, 0x80), /UTF-8/)
    assert.deepEqual(parseJsonObject(wrap(0xe2, 0x82, 0xac)), { client_name: '€' })
  })

  it('hostile member names stay plain data', () => {
    const v = parseJsonObject(utf8('{"__proto__":{"polluted":true},"constructor":{"prototype":1}}'))
    assert.equal(Object.getPrototypeOf(v), Object.prototype)
    assert.ok(Object.hasOwn(v, '__proto__'))
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})

describe('checkJsonMediaType (R7591-3-f, P-12)', () => {
  it('accepts application/json with or without parameters', () => {
    for (const ct of [
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'Application/JSON; Charset="utf-8"',
      'application/json; charset=utf8',
      'application/json ; foo=bar',
    ]) {
      assert.doesNotThrow(() => checkJsonMediaType(ct), ct)
    }
  })

  it('refuses other media types and other charsets', () => {
    for (const ct of [
      undefined,
      '',
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json-patch+json',
      'application/jose',
      'application/json; charset=iso-8859-1',
      'application/json; charset=utf-16',
      'application/json, text/plain',
    ]) {
      assert.throws(() => checkJsonMediaType(ct), RegistrationError, String(ct))
    }
  })
})

describe('POST /register with malformed bodies leaves no client behind (R7591-3.1-b)', () => {
  const valid = '{"redirect_uris":["https://client.example.org/cb"]}'
  const cases: [string, Record<string, string>, string | Uint8Array][] = [
    ['text/plain body that is valid JSON', { 'content-type': 'text/plain' }, valid],
    ['form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }, 'redirect_uris=x'],
    ['duplicate keys', { 'content-type': 'application/json' }, '{"a":1,"\\u0061":2}'],
    ['array', { 'content-type': 'application/json' }, `[${valid}]`],
    ['truncated', { 'content-type': 'application/json' }, valid.slice(0, -1)],
    ['deep nesting', { 'content-type': 'application/json' }, nest(100)],
    ['invalid UTF-8', { 'content-type': 'application/json' }, new Uint8Array([0x7b, 0xff, 0x7d])],
    ['latin-1 charset', { 'content-type': 'application/json; charset=latin1' }, valid],
  ]
  for (const [name, headers, raw] of cases) {
    it(`${name}: 400 invalid_client_metadata, JSON, no-store, no client_id`, async () => {
      const { fetch, store } = makeRegistrar()
      const res = await call(fetch, 'POST', '/register', { headers, raw })
      assert.equal(res.status, 400)
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.equal(res.body.error, 'invalid_client_metadata')
      assert.equal('client_id' in res.body, false)
      assert.equal(await store.countClients(), 0)
    })
  }

  it('no Content-Type at all: 400', async () => {
    const { fetch, store } = makeRegistrar()
    const req = new Request('https://as.example.com/register', {
      method: 'POST',
      body: utf8(valid),
    })
    assert.equal(req.headers.get('content-type'), null)
    const res = await fetch(req)
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client_metadata')
    assert.equal(await store.countClients(), 0)
  })

  it('P-12: application/json; charset=utf-8 is accepted', async () => {
    const { fetch } = makeRegistrar()
    const res = await call(fetch, 'POST', '/register', {
      headers: { 'content-type': 'application/json; charset=utf-8' },
      raw: valid,
    })
    assert.equal(res.status, 201)
  })

  it('limits.maxBodyBytes: a body over 64 KiB gets 413; exactly 64 KiB is read', async () => {
    const { fetch, store } = makeRegistrar()
    const pad = (n: number) => `${valid.slice(0, -1)},"x":"${'a'.repeat(n - valid.length - 7)}"}`
    assert.equal(pad(65_536).length, 65_536)
    const ok = await call(fetch, 'POST', '/register', { raw: pad(65_536) })
    assert.equal(ok.status, 201)
    const big = await call(fetch, 'POST', '/register', { raw: pad(65_537) })
    assert.equal(big.status, 413)
    assert.equal(big.body.error, 'invalid_request')
    assert.equal(await store.countClients(), 1)
  })

  it('limits.maxBodyBytes: a body over the limit without Content-Length (a stream) gets 413', async () => {
    const { fetch } = makeRegistrar()
    const chunk = new Uint8Array(16 * 1024).fill(0x20)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 200 * 1024) controller.close()
        else {
          sent += chunk.length
          controller.enqueue(chunk)
        }
      },
    })
    const res = await fetch(
      new Request('https://as.example.com/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit),
    )
    assert.equal(res.status, 413)
    assert.ok(sent < 200 * 1024, 'stopped reading past the limit')
  })

  it('a body stream that fails mid-way is a 400, not a 500', async () => {
    const { fetch, store } = makeRegistrar()
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(utf8('{"redirect_uris":'))
        else controller.error(new Error('connection reset'))
      },
    })
    const res = await fetch(
      new Request('https://as.example.com/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit),
    )
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request')
    assert.equal(await store.countClients(), 0)
  })
})

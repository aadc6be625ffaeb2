#!/usr/bin/env bash
# The package as a user gets it (issue 14 items 3 and 4): `npm pack`, then two empty projects.
#  1. The tarball with better-sqlite3 and pino (as docs/getting-started.md installs it) and the
#     optional peers its integrations need: `npx registrar --help`,
#     `npx registrar serve --port 0 --store memory` answering a registration, every entry point
#     imported from ESM, and a TypeScript file (module/moduleResolution NodeNext) importing them
#     type-checked.
#  2. The tarball alone, as a relying party that only wants `registrar/client`: no native module is
#     built (no better-sqlite3), the client registers at project 1's server, its types check
#     without skipLibCheck, and a SQLite store (or serve, without pino) is refused with the install
#     command to run.
# Installs come from the npm registry (through the npm cache); nothing else is downloaded.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/registrar-package.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== check-package: %s\n' "$*"; }
fail() { printf 'check-package: FAILED: %s\n' "$*" >&2; exit 1; }
# the version of a devDependency of this repository, so the check installs what the tests use
dev() { node -p "require('$repo/package.json').devDependencies['$1']"; }
npm_install() { npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@"; }

step "npm pack"
tarball="$work/$(cd "$repo" && npm pack --silent --pack-destination "$work" | tail -n 1)"
listing="$(tar -tzf "$tarball")"
if grep -q '\.map$' <<<"$listing"; then fail "the tarball ships source maps"; fi
if grep -q '^package/dist/cli/.*\.d\.ts$' <<<"$listing"; then fail "the tarball ships .d.ts of the CLI"; fi
for f in package/LICENSE package/README.md package/CHANGELOG.md package/config.schema.json package/bin/registrar.js; do
  grep -qx "$f" <<<"$listing" || fail "the tarball lacks $f"
done
echo "$(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) KiB"

step "project 1: the tarball with the integrations' peers"
app="$work/app"
mkdir "$app" && cd "$app"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
# as docs/getting-started.md installs it (better-sqlite3 and pino), plus the integrations' peers
npm_install "$tarball" "better-sqlite3@$(dev better-sqlite3)" "pino@$(dev pino)" \
  "oidc-provider@$(dev oidc-provider)" "@modelcontextprotocol/sdk@$(dev @modelcontextprotocol/sdk)" \
  "express@$(dev express)" "fastify@$(dev fastify)" "hono@$(dev hono)" \
  "typescript@$(dev typescript)" "@types/node@$(dev @types/node)" "@types/express@$(dev @types/express)"

npx registrar --help | grep -q '^Usage: registrar <command>' || fail "npx registrar --help"
echo "npx registrar --help: ok"

npx registrar serve --port 0 --store memory --registration open >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 1 150); do
  grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; fail "registrar serve exited"; }
  sleep 0.2
done
issuer="$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/serve.out")"
[ -n "$issuer" ] || { cat "$work/serve.err" >&2; fail "registrar serve did not start"; }
status="$(curl -s -o "$work/registered.json" -w '%{http_code}' -X POST "$issuer/register" \
  -H 'Content-Type: application/json' -d '{"redirect_uris":["https://app.example.com/cb"],"client_name":"Package check"}')"
[ "$status" = 201 ] || { cat "$work/registered.json" >&2; fail "registration answered $status"; }
node -e "const r = require('$work/registered.json'); if (typeof r.client_id !== 'string' || !r.registration_access_token) process.exit(1)" \
  || fail "the registration response lacks client_id or registration_access_token"
echo "npx registrar serve --port 0 --store memory: registered a client at $issuer"

npx registrar token create --store sqlite:./data/registrar.db --create >/dev/null 2>"$work/sqlite.err" \
  || { cat "$work/sqlite.err" >&2; fail "a SQLite store with better-sqlite3 from the registry"; }
echo "npx registrar token create on SQLite (better-sqlite3 $(node -p "require('better-sqlite3/package.json').version")): ok"

entry_points="$(node -p "Object.keys(require('$app/node_modules/registrar/package.json').exports).filter((k) => !k.endsWith('.json')).map((k) => k === '.' ? 'registrar' : 'registrar/' + k.slice(2)).join(' ')")"
for entry in $entry_points; do
  node --input-type=module -e "const m = await import('$entry'); if (Object.keys(m).length === 0) throw new Error('no exports')" \
    || fail "import('$entry') from ESM"
done
node --input-type=module -e "
const schema = await import('registrar/config.schema.json', { with: { type: 'json' } })
if (schema.default.title !== 'Registrar configuration') throw new Error('config.schema.json')" \
  || fail "import registrar/config.schema.json"
echo "ESM imports: ok ($entry_points registrar/config.schema.json)"

cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "files": ["check.ts"]
}
JSON
{
  echo "// every entry point, with a value and a type from each"
  i=0
  for entry in $entry_points; do
    echo "import * as m$i from '$entry'"
    echo "export const e$i: keyof typeof m$i = Object.keys(m$i)[0] as keyof typeof m$i"
    i=$((i + 1))
  done
  cat <<'TS'
import { createRegistrar, type RegistrarApp } from 'registrar'
import { register, type ClientRegistration } from 'registrar/client'
export async function typed(): Promise<[RegistrarApp, ClientRegistration]> {
  const app = await createRegistrar({ config: { issuer: 'http://127.0.0.1:3000' }, store: 'memory' })
  const server = { issuer: 'http://127.0.0.1:3000', registration_endpoint: 'http://127.0.0.1:3000/register' }
  return [app, await register(server, { redirect_uris: ['https://app.example.com/cb'] })]
}
TS
} >check.ts
npx tsc -p tsconfig.json || fail "TypeScript (NodeNext) type-check of the entry points"
echo "TypeScript NodeNext type-check: ok"

step "project 2: registrar/client alone"
client="$work/client"
mkdir "$client" && cd "$client"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm_install "$tarball" "typescript@$(dev typescript)"
for pkg in better-sqlite3 pg ioredis pino prom-client; do
  [ ! -e "node_modules/$pkg" ] || fail "installing registrar alone pulled $pkg"
done
native="$(find node_modules \( -name '*.node' -o -name binding.gyp -o -type d -name build -path '*/Release*' \) -print -quit)"
[ -z "$native" ] || fail "a native module was installed or built: $native"
echo "no native module, no store driver: $(ls node_modules | wc -l) packages"

cat >client.mjs <<JS
import { discover, register } from 'registrar/client'
const server = await discover('$issuer')
const client = await register(server, { redirect_uris: ['https://rp.example.com/cb'], client_name: 'RP' })
const read = await client.read()
if (read.client_name !== 'RP') throw new Error('read back ' + JSON.stringify(read))
await client.delete()
console.log('registered, read and deleted', client.client_id)
JS
node client.mjs || fail "registrar/client against the packaged server"

cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2022", "DOM"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": false,
    "types": []
  },
  "files": ["check.ts"]
}
JSON
cat >check.ts <<'TS'
import { type ClientRegistration, discover, RegistrationError, register } from 'registrar/client'
export async function run(issuer: string): Promise<ClientRegistration | RegistrationError> {
  try {
    return await register(await discover(issuer), { redirect_uris: ['https://rp.example.com/cb'] })
  } catch (err) {
    if (err instanceof RegistrationError) return err
    throw err
  }
}
TS
npx tsc -p tsconfig.json || fail "registrar/client types without skipLibCheck and without @types/node"
echo "registrar/client types: ok (no skipLibCheck, no @types/node)"

# the drivers are optional peers: a missing one is a configuration error naming the install command
if npx registrar token list --store sqlite:./data/registrar.db --create >/dev/null 2>"$work/nosqlite.err"; then
  fail "a SQLite store opened without better-sqlite3"
fi
grep -q 'store: a sqlite: store needs better-sqlite3 — npm install better-sqlite3' "$work/nosqlite.err" \
  || { cat "$work/nosqlite.err" >&2; fail "no install hint when better-sqlite3 is missing"; }
echo "without better-sqlite3: $(grep -m1 "needs better-sqlite3" "$work/nosqlite.err")"
if npx registrar serve --port 0 --store memory >/dev/null 2>"$work/nopino.err"; then
  fail "registrar serve started without pino"
fi
grep -q 'needs pino — npm install pino' "$work/nopino.err" \
  || { cat "$work/nopino.err" >&2; fail "no install hint when pino is missing"; }
echo "without pino: $(head -n 1 "$work/nopino.err")"

step "ok"

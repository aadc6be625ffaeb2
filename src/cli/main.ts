import { readFileSync } from 'node:fs'
import { ConfigError } from '../config/resolve.js'
import { adminToken } from './admin-token.js'
import { audit } from './audit.js'
import { clients } from './clients.js'
import { type Command, UsageError } from './common.js'
import { policy } from './policy.js'
import { register } from './register.js'
import { registration } from './registration.js'
import { serve } from './serve.js'
import { token } from './token.js'

const COMMANDS: Command[] = [
  serve,
  token,
  clients,
  policy,
  register,
  registration,
  adminToken,
  audit,
]

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return `Usage: registrar <command> [options]

OAuth 2.0 Dynamic Client Registration (RFC 7591, RFC 7592, OpenID Connect Registration).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "registrar <command> --help" for a command's options.
Options: -h, --help (this text), -v, --version`
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`)
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    process.stdout.write(`${pkg.version}\n`)
    return 0
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    process.stderr.write(`registrar: unknown command '${name}'\n\n${usage()}\n`)
    return 2
  }
  try {
    return await command.run(args)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`registrar ${name}: ${err.message}\n\n${command.help}\n`)
      return 2
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`registrar ${name}: ${err.message}\n`)
      return 2
    }
    process.stderr.write(`registrar ${name}: ${(err as Error)?.message ?? String(err)}\n`)
    return 1
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})

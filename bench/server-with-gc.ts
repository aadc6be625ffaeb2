// Runs `registrar serve` unchanged, in this process, and answers one question over the IPC channel
// the harness opened: "memory" → process.memoryUsage() after two full garbage collections. Nothing
// is added to the server (no endpoint, no flag); the harness measures memory per stored client as
// the difference between two such answers divided by the number of clients registered between them.
//
//   node --expose-gc server-with-gc.mjs /abs/path/bin/registrar.js serve --port 0 …
import { pathToFileURL } from 'node:url'

const bin = process.argv[2]
if (!bin) throw new Error('usage: server-with-gc.mjs BIN serve [options]')
// bin/registrar.js reads process.argv.slice(2): make it see `serve …`
process.argv.splice(2, 1)

process.on('message', (message) => {
  if (message !== 'memory') return
  const gc = globalThis.gc
  if (!gc) {
    process.send?.({ error: 'run with --expose-gc' })
    return
  }
  gc()
  gc()
  process.send?.({ memory: process.memoryUsage() })
})
// the server stops on SIGTERM as usual; when the harness is gone, stop as if it had sent one
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
// the channel must not keep the process alive once `serve` returns
process.channel?.unref()

await import(pathToFileURL(bin).href)

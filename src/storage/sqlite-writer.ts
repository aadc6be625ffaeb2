import { parentPort, workerData } from 'node:worker_threads'
import { commitGroup, openDatabase, prepareStatements, type WriteOp } from './sqlite-database.js'

// The SQLite store's writer thread. It owns the connection that writes, so the fsync of each group
// commit blocks this thread, not the one serving requests. Messages: { id, op } in; { id, ok,
// value | error } out, sent only after the commit that made the write durable.

interface Request {
  id: number
  op: WriteOp
}

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number }
const db = openDatabase(path, busyTimeoutMs)
const statements = prepareStatements(db)
const port = parentPort
if (!port) throw new Error('sqlite-writer must run as a worker thread')

let pending: Request[] = []
let scheduled = false

function serialise(err: unknown): { message: string; code?: string; name?: string } {
  const e = err as { message?: unknown; code?: unknown; name?: unknown }
  return {
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' && { code: e.code }),
    ...(typeof e?.name === 'string' && { name: e.name }),
  }
}

function flush(): void {
  scheduled = false
  const batch = pending
  pending = []
  if (batch.length === 0) return
  try {
    const outcomes = commitGroup(
      db,
      statements,
      batch.map((r) => r.op),
    )
    batch.forEach((r, i) => {
      const outcome = outcomes[i]!
      port?.postMessage(
        outcome.ok
          ? { id: r.id, ok: true, value: outcome.value }
          : { id: r.id, ok: false, error: serialise(outcome.error) },
      )
    })
  } catch (err) {
    const error = serialise(err)
    for (const r of batch) port?.postMessage({ id: r.id, ok: false, error })
  }
}

port.on('message', (message: Request | { close: true }) => {
  if ('close' in message) {
    flush()
    db.close()
    port.close()
    return
  }
  pending.push(message)
  // every write that arrives before the thread is next idle joins the same commit
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
})

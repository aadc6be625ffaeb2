/**
 * `Store.runExclusive` for the stores without a shared lock service (memory, SQLite): the names
 * held by this store object. Two processes on one SQLite file do not see each other's holds; the
 * idle-expiry sweep tolerates that (its deletes re-check idleness, so two sweeps never delete a
 * client the other kept), it only does the work twice.
 */
export class InProcessLocks {
  readonly #held = new Set<string>()

  async run<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    if (this.#held.has(name)) return { ran: false }
    this.#held.add(name)
    try {
      return { ran: true, value: await fn() }
    } finally {
      this.#held.delete(name)
    }
  }
}

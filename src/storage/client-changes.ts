import type { ClientChangeEvent } from '../core/store.js'

/** The listeners of `Store.watchClientChanges`, shared by the store implementations. */
export class ClientChangeListeners {
  readonly #listeners = new Set<(event: ClientChangeEvent) => void>()

  get size(): number {
    return this.#listeners.size
  }

  add(listener: (event: ClientChangeEvent) => void): () => Promise<void> {
    this.#listeners.add(listener)
    return async () => {
      this.#listeners.delete(listener)
    }
  }

  delete(listener: (event: ClientChangeEvent) => void): void {
    this.#listeners.delete(listener)
  }

  clear(): void {
    this.#listeners.clear()
  }

  /**
   * Tells every listener, synchronously: a store calls it before the write's promise settles, so
   * the writer never sees a stale cache after its own write. A listener's failure is its own.
   */
  emit(event: ClientChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // the write stands whatever a listener does
      }
    }
  }

  changed(clientId: string): void {
    this.emit({ type: 'changed', clientId })
  }
}

import {
  type ClientRecord,
  type CreateClientOptions,
  type InitialAccessTokenRecord,
  initialAccessTokenUsable,
  type Store,
} from '../core/store.js'

/**
 * In-process store, for tests and single-process deployments that accept losing everything on
 * restart. Records are kept serialised: callers can never alias stored state, and a JSON string
 * costs far less memory than the object graph it describes.
 */
export class MemoryStore implements Store {
  readonly #clients = new Map<string, string>()
  readonly #tokens = new Map<string, InitialAccessTokenRecord>()
  #closed = false

  async createClient(client: ClientRecord, options?: CreateClientOptions): Promise<boolean> {
    this.#open()
    if (this.#clients.has(client.client_id)) throw new Error('client_id already exists')
    if (options?.initialAccessToken) {
      const { tokenHash, now } = options.initialAccessToken
      if (!this.#consume(tokenHash, now)) return false
    }
    this.#clients.set(client.client_id, JSON.stringify(client))
    return true
  }

  async findClient(clientId: string): Promise<ClientRecord | undefined> {
    this.#open()
    const json = this.#clients.get(clientId)
    return json === undefined ? undefined : JSON.parse(json)
  }

  async replaceClient(client: ClientRecord, expectedVersion: number): Promise<boolean> {
    this.#open()
    const json = this.#clients.get(client.client_id)
    if (json === undefined || (JSON.parse(json) as ClientRecord).version !== expectedVersion)
      return false
    this.#clients.set(client.client_id, JSON.stringify(client))
    return true
  }

  async deleteClient(clientId: string, expectedVersion?: number): Promise<boolean> {
    this.#open()
    if (expectedVersion !== undefined) {
      const json = this.#clients.get(clientId)
      if (json === undefined || (JSON.parse(json) as ClientRecord).version !== expectedVersion)
        return false
    }
    return this.#clients.delete(clientId)
  }

  async listClients(options: { limit?: number; after?: string } = {}): Promise<ClientRecord[]> {
    this.#open()
    const all = [...this.#clients.values()].map((j) => JSON.parse(j) as ClientRecord).sort(byIssued)
    const start =
      options.after === undefined ? 0 : all.findIndex((c) => c.client_id === options.after) + 1
    return all.slice(start, options.limit === undefined ? undefined : start + options.limit)
  }

  async countClients(filter: { policy?: string } = {}): Promise<number> {
    this.#open()
    if (filter.policy === undefined) return this.#clients.size
    let n = 0
    for (const json of this.#clients.values()) {
      if ((JSON.parse(json) as ClientRecord).policy === filter.policy) n++
    }
    return n
  }

  async createInitialAccessToken(token: InitialAccessTokenRecord): Promise<void> {
    this.#open()
    this.#tokens.set(token.tokenHash, { ...token })
  }

  async findInitialAccessToken(tokenHash: string): Promise<InitialAccessTokenRecord | undefined> {
    this.#open()
    const t = this.#tokens.get(tokenHash)
    return t && { ...t }
  }

  async consumeInitialAccessToken(
    tokenHash: string,
    now: number,
  ): Promise<InitialAccessTokenRecord | undefined> {
    this.#open()
    return this.#consume(tokenHash, now)
  }

  async listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    this.#open()
    return [...this.#tokens.values()]
      .map((t) => ({ ...t }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }

  async revokeInitialAccessToken(id: string): Promise<boolean> {
    this.#open()
    for (const [hash, t] of this.#tokens) {
      if (t.id === id) return this.#tokens.delete(hash)
    }
    return false
  }

  async ping(): Promise<void> {
    this.#open()
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #consume(tokenHash: string, now: number): InitialAccessTokenRecord | undefined {
    const t = this.#tokens.get(tokenHash)
    if (!t || !initialAccessTokenUsable(t, now)) return undefined
    t.uses += 1
    return { ...t }
  }

  #open(): void {
    if (this.#closed) throw new Error('store is closed')
  }
}

function byIssued(a: ClientRecord, b: ClientRecord): number {
  return a.client_id_issued_at - b.client_id_issued_at || (a.client_id < b.client_id ? -1 : 1)
}

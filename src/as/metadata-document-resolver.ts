import { LRUCache } from 'lru-cache'
import {
  cacheLifetime,
  checkClientIdUrl,
  type DocumentChange,
  documentChanges,
  fetchMetadataDocument,
  MetadataDocumentError,
  type MetadataDocumentRefusal,
  validateMetadataDocument,
} from '../core/client-id-metadata-document.js'
import { RegistrationError } from '../core/errors.js'
import type { OutboundFetch } from '../core/outbound-fetch.js'
import type { Registrar } from '../core/registration.js'
import {
  applyRegistrationPolicies,
  metadataDocumentHostRefusal,
  metadataDocumentPolicies,
  type NamedPolicy,
  type PolicyNote,
} from '../core/registration-policy.js'
import type { ClientRecord, MetadataDocumentCache, MetadataDocumentRecord } from '../core/store.js'
import type { ClientMetadata } from '../metadata/types.js'
import type { ActiveClient } from './client-cache.js'
import type { RegisteredClient } from './types.js'

/** What the resolver reports; the registry turns these into its events (and the app into logs). */
export interface MetadataDocumentReports {
  refused(event: { client_id: string; refusal: MetadataDocumentRefusal; detail: string }): void
  fetched(event: { client_id: string; bytes: number; expires_at: number }): void
  changed(event: { client_id: string; changes: DocumentChange[] }): void
  stale(event: { client_id: string; detail: string; stale_until: number }): void
  warning(event: { client_id: string; detail: string }): void
}

/** Options of {@link MetadataDocumentResolver}. */
export interface MetadataDocumentResolverOptions {
  registrar: Registrar
  /** The SSRF-safe fetcher configured for documents: no redirects, their size cap and deadline. */
  fetch: OutboundFetch
  now: () => number
  /** How long a resolved client is kept in process, ms (never past its document's expiry). */
  cacheTtlMs: number
  reports: MetadataDocumentReports
}

/** What {@link MetadataDocumentResolver.dryRun} found. */
export interface MetadataDocumentDryRun {
  client_id: string
  /** The document as fetched. */
  document?: Record<string, unknown>
  /** The document's metadata as validated, before any policy. */
  validated?: ClientMetadata
  /** What a client of this document would have: policy applied. */
  accepted?: ClientMetadata
  /** Which rule changed which member. */
  notes: PolicyNote[]
  /** The policies that applied. */
  policies: string[]
  /** How long the copy would be kept (seconds). */
  lifetime?: number
  bytes?: number
  /** Awaiting `clients approve` (`requireApproval`). */
  requiresApproval: boolean
  warning?: string
  refusal?: { refusal: MetadataDocumentRefusal; detail: string }
}

/** How often a waiting instance looks whether the lease holder has stored the document, ms. */
const LEASE_POLL_MS = 50
/** Resolved clients and refusals kept in process at most. */
const MAX_ENTRIES = 10_000
/** A refused id is remembered in process this long at most (the store's failure record rules). */
const REFUSED_TTL_MS = 1000

interface Entry {
  active: MetadataDocumentClient | undefined
  /** Epoch ms after which the entry must be read again. */
  until: number
}

/**
 * Resolves `client_id`s that are Client ID Metadata Document URLs (draft-ietf-oauth-client-id-
 * metadata-document-03) into clients, with the store of record as the shared cache (§11 D-10):
 *
 * - the URL is checked on the raw string and against the host rules of the `metadata_document`
 *   policies before anything else (CIMD-3-*, CIMD-9.9-a), then an operator's block (CIMD-BP-26);
 * - a stored copy is used until it expires; then one instance per database fetches (a lease in the
 *   store) while the others wait for its result (CIMD-BP-05, one fetch per expiry);
 * - a transient failure of the origin serves the expired copy up to `staleIfErrorSeconds`, never
 *   after 404/410 or an invalid document (CIMD-BP-09); every failure is remembered for
 *   `failureCacheSeconds` so that requests cannot turn the AS into an amplifier;
 * - a copy is refreshed in the background in the last tenth of its lifetime, so that a busy client
 *   never waits for its fetch;
 * - a new document is only seen after the old copy expires, so a redirect URI added to it is used
 *   only then; the change is reported (CIMD-BP-22).
 */
export class MetadataDocumentResolver {
  readonly #o: MetadataDocumentResolverOptions
  readonly #memo: LRUCache<string, Entry>
  readonly #inFlight = new Map<string, Promise<MetadataDocumentClient | undefined>>()
  readonly #refreshing = new Set<string>()
  /** URLs this resolver is writing: the store's change report of its own write is no news. */
  readonly #writing = new Map<string, number>()
  #epoch = 0

  constructor(options: MetadataDocumentResolverOptions) {
    this.#o = options
    this.#memo = new LRUCache({ max: MAX_ENTRIES })
  }

  get #settings() {
    return this.#o.registrar.config.clientIdMetadataDocuments
  }

  /**
   * The client held in process for `clientId`, if any and still fresh: no I/O, no promise (the
   * registry's hot path for a cached document client).
   */
  cached(clientId: string): MetadataDocumentClient | undefined {
    const hit = this.#memo.get(clientId)
    if (!hit?.active || hit.until <= this.#o.now() * 1000) return undefined
    this.#maybeRefresh(clientId, hit.active)
    return hit.active
  }

  /** The client of a metadata document URL, or `undefined` when refused (reported). */
  resolve(clientId: string): Promise<MetadataDocumentClient | undefined> {
    const hit = this.#memo.get(clientId)
    if (hit && hit.until > this.#o.now() * 1000) {
      if (hit.active) this.#maybeRefresh(clientId, hit.active)
      return Promise.resolve(hit.active)
    }
    const joined = this.#inFlight.get(clientId)
    if (joined) return joined
    const epoch = this.#epoch
    const pending = this.#load(clientId)
      .then((active) => {
        if (epoch === this.#epoch) this.#remember(clientId, active)
        return active
      })
      .finally(() => {
        if (this.#inFlight.get(clientId) === pending) this.#inFlight.delete(clientId)
      })
    this.#inFlight.set(clientId, pending)
    return pending
  }

  /** Drops one URL's in-process copy, or all of them. */
  invalidate(clientId?: string): void {
    if (clientId !== undefined && this.#writing.has(clientId)) return
    this.#epoch++
    if (clientId === undefined) {
      this.#memo.clear()
      this.#inFlight.clear()
    } else {
      this.#memo.delete(clientId)
      this.#inFlight.delete(clientId)
    }
  }

  #remember(clientId: string, active: MetadataDocumentClient | undefined): void {
    const ttl = this.#o.cacheTtlMs
    if (ttl <= 0) return
    // the injected clock, so that tests moving it see expiry in process too
    const now = this.#o.now() * 1000
    const expires = (active?.document.expiresAt ?? 0) * 1000
    const until = active ? Math.min(now + ttl, Math.max(expires, now)) : now + REFUSED_TTL_MS
    this.#memo.set(clientId, { active, until })
  }

  async #load(clientId: string): Promise<MetadataDocumentClient | undefined> {
    try {
      return await this.#resolveChecked(clientId)
    } catch (err) {
      if (err instanceof MetadataDocumentError) {
        this.#o.reports.refused({
          client_id: clientId.slice(0, 2048),
          refusal: err.refusal,
          detail: err.detail,
        })
        return undefined
      }
      throw err
    }
  }

  /** The checks made before anything is fetched: URL, host policy, operator's block. */
  #precheck(clientId: string): { policies: NamedPolicy[]; warning?: string; url: URL } {
    const checked = checkClientIdUrl(clientId, { allowQuery: this.#settings.allowQuery })
    const policies = metadataDocumentPolicies(this.#o.registrar.config)
    const hostRefusal = metadataDocumentHostRefusal(checked.url.hostname, policies)
    if (hostRefusal !== undefined) throw new MetadataDocumentError('denied', hostRefusal)
    return { policies, url: checked.url, ...(checked.warning && { warning: checked.warning }) }
  }

  async #resolveChecked(clientId: string): Promise<MetadataDocumentClient | undefined> {
    const { policies, warning } = this.#precheck(clientId)
    const store = this.#o.registrar.store
    let record = await store.findMetadataDocument(clientId)
    if (record?.decision === 'blocked') {
      throw new MetadataDocumentError('blocked', 'blocked by an operator (clients block)')
    }
    const now = this.#o.now()
    if (record?.metadata && (record.expiresAt ?? 0) > now) {
      return this.#accept(record, policies)
    }
    const failure = record?.failure
    if (failure && failure.until > now) {
      if (record?.metadata && (record.staleUntil ?? 0) > now) return this.#accept(record, policies)
      throw new MetadataDocumentError(
        failure.refusal as MetadataDocumentRefusal,
        `${failure.detail} (remembered until ${failure.until})`,
      )
    }
    if (warning) this.#o.reports.warning({ client_id: clientId, detail: warning })
    record = await this.#fetchOnce(clientId, record, policies)
    if (record.decision === 'blocked') {
      throw new MetadataDocumentError('blocked', 'blocked by an operator (clients block)')
    }
    if (record.metadata && ((record.expiresAt ?? 0) > now || (record.staleUntil ?? 0) > now)) {
      return this.#accept(record, policies)
    }
    const f = record.failure
    throw new MetadataDocumentError(
      (f?.refusal ?? 'fetch_failed') as MetadataDocumentRefusal,
      f?.detail ?? 'no document could be obtained',
    )
  }

  /**
   * Fetches the document once between all instances on the store: the lease holder fetches and
   * stores the outcome; the others wait for it (at most the lease), then read it.
   */
  async #fetchOnce(
    clientId: string,
    seen: MetadataDocumentRecord | undefined,
    policies: NamedPolicy[],
  ): Promise<MetadataDocumentRecord> {
    const store = this.#o.registrar.store
    const leaseSeconds = Math.ceil(this.#settings.timeoutMs / 1000) + 2
    const deadline = Date.now() + leaseSeconds * 1000 + 1000
    const moved = (current: MetadataDocumentRecord | undefined) =>
      current !== undefined &&
      (current.fetchedAt !== seen?.fetchedAt || current.failure?.at !== seen?.failure?.at)
    for (;;) {
      if (await store.leaseMetadataDocumentFetch(clientId, this.#o.now(), leaseSeconds)) {
        // another fetch may have ended between our read and the lease: use its outcome
        const current = await store.findMetadataDocument(clientId)
        if (current && moved(current)) {
          const { decision: _d, lastUsedAt: _u, ...cache } = current
          await this.#save(cache) // unchanged: releases the lease, notifies no one
          return current
        }
        return this.#fetchAndStore(clientId, seen, policies)
      }
      await new Promise((r) => setTimeout(r, LEASE_POLL_MS))
      const current = await store.findMetadataDocument(clientId)
      if (current && moved(current)) return current
      if (Date.now() > deadline) return this.#fetchAndStore(clientId, seen, policies)
    }
  }

  async #fetchAndStore(
    clientId: string,
    previous: MetadataDocumentRecord | undefined,
    policies: NamedPolicy[],
  ): Promise<MetadataDocumentRecord> {
    const settings = this.#settings
    const now = this.#o.now()
    let cache: MetadataDocumentCache
    try {
      const outcome = await this.#fetchAndValidate(clientId, policies)
      cache = {
        client_id: clientId,
        metadata: outcome.accepted,
        ...(outcome.policy !== undefined && { policy: outcome.policy }),
        fetchedAt: now,
        expiresAt: now + outcome.lifetime,
        staleUntil: now + outcome.lifetime + settings.staleIfErrorSeconds,
        bytes: outcome.bytes,
      }
      await this.#save(cache)
      this.#o.reports.fetched({
        client_id: clientId,
        bytes: outcome.bytes,
        expires_at: now + outcome.lifetime,
      })
      if (previous?.metadata) {
        const changes = documentChanges(previous.metadata, outcome.accepted)
        if (changes.length > 0) this.#o.reports.changed({ client_id: clientId, changes })
      }
    } catch (err) {
      if (!(err instanceof MetadataDocumentError)) {
        // release the lease; the caller sees the store's or the fetcher's error
        await this.#save(keptCopy(previous, clientId, true, now)).catch(() => {})
        throw err
      }
      const failure = {
        refusal: err.refusal,
        detail: err.detail,
        at: now,
        until: now + settings.failureCacheSeconds,
      }
      // CIMD-BP-09: only a transient failure keeps the copy (stale-if-error); 404/410 and an
      // invalid document end it at once
      cache = { ...keptCopy(previous, clientId, err.transient, now), failure }
      await this.#save(cache)
      if (cache.metadata) {
        this.#o.reports.stale({
          client_id: clientId,
          detail: err.detail,
          stale_until: cache.staleUntil ?? now,
        })
      }
    }
    return {
      ...cache,
      ...(previous?.decision !== undefined && { decision: previous.decision }),
    }
  }

  async #save(cache: MetadataDocumentCache): Promise<void> {
    const id = cache.client_id
    this.#writing.set(id, (this.#writing.get(id) ?? 0) + 1)
    try {
      await this.#o.registrar.store.saveMetadataDocument(cache)
    } finally {
      const left = (this.#writing.get(id) ?? 1) - 1
      if (left === 0) this.#writing.delete(id)
      else this.#writing.set(id, left)
    }
  }

  /** Fetch, validate, apply the policies: what a client of this document would be. */
  async #fetchAndValidate(
    clientId: string,
    policies: NamedPolicy[],
  ): Promise<{
    document: Record<string, unknown>
    validated: ClientMetadata
    accepted: ClientMetadata
    notes: PolicyNote[]
    lifetime: number
    bytes: number
    policy: string | undefined
  }> {
    const settings = this.#settings
    const registrar = this.#o.registrar
    const fetched = await fetchMetadataDocument(this.#o.fetch, clientId, {
      acceptTextPlain: settings.acceptTextPlain,
      maxBytes: settings.maxBytes,
    })
    const validated = await validateMetadataDocument(fetched.document, clientId, registrar.rules)
    const { metadata: accepted, notes } = applyPolicies(validated, policies, registrar)
    const lifetime = cacheLifetime(fetched.headers, {
      minSeconds: settings.cacheMinSeconds,
      maxSeconds: settings.cacheMaxSeconds,
      defaultSeconds: settings.cacheDefaultSeconds,
    })
    return {
      document: fetched.document,
      validated,
      accepted,
      notes,
      lifetime,
      bytes: fetched.bytes,
      policy: policies[0]?.name,
    }
  }

  /**
   * `policy dry-run --client-id URL`: fetches the document now (nothing is stored, no lease) and
   * says what would be accepted and which rule decided each member.
   */
  async dryRun(clientId: string): Promise<MetadataDocumentDryRun> {
    const out: MetadataDocumentDryRun = {
      client_id: clientId,
      notes: [],
      policies: [],
      requiresApproval: false,
    }
    try {
      const { policies, warning } = this.#precheck(clientId)
      out.policies = policies.map((p) => p.name)
      out.requiresApproval = policies.some((p) => p.policy.requireApproval === true)
      if (warning) out.warning = warning
      const record = await this.#o.registrar.store.findMetadataDocument(clientId)
      if (record?.decision === 'blocked') {
        throw new MetadataDocumentError('blocked', 'blocked by an operator (clients block)')
      }
      if (record?.decision === 'approved') out.requiresApproval = false
      const outcome = await this.#fetchAndValidate(clientId, policies)
      out.document = outcome.document
      out.validated = outcome.validated
      out.accepted = outcome.accepted
      out.notes = outcome.notes
      out.lifetime = outcome.lifetime
      out.bytes = outcome.bytes
    } catch (err) {
      if (!(err instanceof MetadataDocumentError)) throw err
      out.refusal = { refusal: err.refusal, detail: err.detail }
    }
    return out
  }

  /**
   * A stored copy as a usable client, after the checks that may have changed since it was stored:
   * the current policies again (CIMD-BP-10) and approval.
   */
  #accept(record: MetadataDocumentRecord, policies: NamedPolicy[]): MetadataDocumentClient {
    const metadata = record.metadata as ClientMetadata
    applyPolicies(metadata, policies, this.#o.registrar)
    if (policies.some((p) => p.policy.requireApproval) && record.decision !== 'approved') {
      throw new MetadataDocumentError(
        'pending_approval',
        `awaiting approval by an operator (clients approve ${record.client_id})`,
      )
    }
    // an unchanged copy re-read after the in-process TTL keeps its view: nothing cloned or frozen
    const previous = this.#memo.get(record.client_id, { allowStale: true })?.active
    const before = previous?.document
    if (
      before &&
      before.fetchedAt === record.fetchedAt &&
      before.expiresAt === record.expiresAt &&
      before.staleUntil === record.staleUntil &&
      before.decision === record.decision &&
      before.lastUsedAt === record.lastUsedAt &&
      before.policy === record.policy
    ) {
      return previous
    }
    return activeClient(record)
  }

  /** Refreshes a copy in the last tenth of its lifetime, once per URL at a time, off the request. */
  #maybeRefresh(clientId: string, active: MetadataDocumentClient): void {
    const { fetchedAt = 0, expiresAt = 0 } = active.document
    const now = this.#o.now()
    if (now < expiresAt - Math.max(1, (expiresAt - fetchedAt) / 10)) return
    if (this.#refreshing.has(clientId)) return
    this.#refreshing.add(clientId)
    const policies = (() => {
      try {
        return this.#precheck(clientId).policies
      } catch {
        return undefined
      }
    })()
    if (!policies) {
      this.#refreshing.delete(clientId)
      return
    }
    this.#o.registrar.store
      .leaseMetadataDocumentFetch(clientId, now, Math.ceil(this.#settings.timeoutMs / 1000) + 2)
      .then(async (leased) => {
        if (!leased) return
        await this.#fetchAndStore(clientId, active.document, policies)
        this.invalidate(clientId)
      })
      .catch(() => {})
      .finally(() => this.#refreshing.delete(clientId))
  }
}

/** Applies the metadata_document policies; a refusal is a `policy` refusal of the document. */
function applyPolicies(
  metadata: ClientMetadata,
  policies: readonly NamedPolicy[],
  registrar: Registrar,
): { metadata: ClientMetadata; notes: PolicyNote[] } {
  try {
    return applyRegistrationPolicies(metadata, policies, {
      vouched: false,
      authMethodsSupported: registrar.rules.token_endpoint_auth_methods_supported,
    })
  } catch (err) {
    if (err instanceof RegistrationError) {
      throw new MetadataDocumentError('policy', err.error_description ?? err.error, { cause: err })
    }
    throw err
  }
}

/** What a failed fetch keeps of the previous copy: all of it within its stale bound, else none. */
function keptCopy(
  previous: MetadataDocumentRecord | undefined,
  clientId: string,
  transient: boolean,
  now: number,
): MetadataDocumentCache {
  if (!previous?.metadata || !transient || (previous.staleUntil ?? 0) <= now) {
    return { client_id: clientId }
  }
  const { decision: _d, lastUsedAt: _u, failure: _f, ...cache } = previous
  return cache
}

/** A metadata document client as the AS sees it, and the record the authenticator reads. */
export interface MetadataDocumentClient extends ActiveClient {
  readonly document: MetadataDocumentRecord
}

function activeClient(document: MetadataDocumentRecord): MetadataDocumentClient {
  const metadata = document.metadata as ClientMetadata
  const issuedAt = document.fetchedAt ?? 0
  const record: ClientRecord = {
    client_id: document.client_id,
    client_id_issued_at: issuedAt,
    // no credential: a document client is public (none) or proves a key (private_key_jwt)
    registrationAccessTokenHash: '',
    metadata,
    status: 'active',
    ...(document.policy !== undefined && { policy: document.policy }),
    updatedAt: issuedAt,
    version: 0,
    ...(document.lastUsedAt !== undefined && { lastUsedAt: document.lastUsedAt }),
  }
  const client: RegisteredClient = deepFreeze({
    client_id: document.client_id,
    client_id_issued_at: issuedAt,
    metadata: structuredClone(metadata),
    source: 'metadata_document',
    ...(document.policy !== undefined && { policy: document.policy }),
    ...(document.lastUsedAt !== undefined && { lastUsedAt: document.lastUsedAt }),
  } satisfies RegisteredClient)
  return { record, client, document }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}

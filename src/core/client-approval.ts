import type { ClientRecord, ClientStatus, Store } from './store.js'

/** What {@link approveClient} did. */
export type ApprovalOutcome =
  | { result: 'approved'; client: ClientRecord }
  | { result: 'not_found' }
  /** Nothing to approve: the client is `active` already, or `disabled` by an operator. */
  | { result: 'not_pending'; status: ClientStatus }
  /** The registration changed since the version the operator reviewed; nothing was approved. */
  | { result: 'version_changed'; version: number }

/**
 * An operator approves a client that a `requireApproval` policy left `pending` (issue 12 item 1).
 * The approval names the version of the record the operator reviewed (`registrar clients show`
 * prints it) and holds only if that is still the stored version: a registration changed by an RFC
 * 7592 update in between is not approved unseen. One compare-and-swap on the store.
 */
export async function approveClient(
  store: Store,
  clientId: string,
  options: { version: number; now: number },
): Promise<ApprovalOutcome> {
  const client = await store.findClient(clientId)
  if (!client) return { result: 'not_found' }
  if (client.status !== 'pending') return { result: 'not_pending', status: client.status }
  if (client.version !== options.version) {
    return { result: 'version_changed', version: client.version }
  }
  const approved: ClientRecord = {
    ...client,
    status: 'active',
    updatedAt: options.now,
    version: client.version + 1,
  }
  if (await store.replaceClient(approved, client.version)) {
    return { result: 'approved', client: approved }
  }
  // changed or deleted between the read and the swap
  const now = await store.findClient(clientId)
  if (!now) return { result: 'not_found' }
  if (now.status !== 'pending') return { result: 'not_pending', status: now.status }
  return { result: 'version_changed', version: now.version }
}

import type { ClientMetadata } from '../metadata/types.js'
import type { ClientRecord } from './store.js'

/**
 * Members of a client information response that only the server issues (RFC 7591 §3.2.1, §4.1;
 * RFC 7592 §3): never taken from a client, a software statement or an extension field.
 */
export const SERVER_ISSUED_MEMBERS: readonly string[] = [
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
]

/**
 * The Client Information Response (RFC 7591 §3.2.1, RFC 7592 §3): the client identifier, the
 * credentials issued in this response, every registered metadata value, and the RFC 7592
 * management members.
 */
export interface ClientInformation extends ClientMetadata {
  client_id: string
  client_secret?: string
  client_id_issued_at: number
  client_secret_expires_at?: number
  software_statement?: string
  registration_client_uri: string
  registration_access_token: string
}

/**
 * Builds the response body. A `client_secret` (and with it `client_secret_expires_at`, RFC 7591
 * §3.2.1) appears only when one is handed out in this response: secrets are stored hashed, so a
 * read cannot return them (RFC 7592 §3).
 *
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.1)
 */
export function clientInformation(
  record: ClientRecord,
  credentials: {
    registration_access_token: string
    registration_client_uri: string
    client_secret?: string
  },
): ClientInformation {
  const info: ClientInformation = {
    client_id: record.client_id,
    ...(credentials.client_secret !== undefined && {
      client_secret: credentials.client_secret,
      client_secret_expires_at: record.client_secret_expires_at ?? 0,
    }),
    client_id_issued_at: record.client_id_issued_at,
    ...record.metadata,
    ...(record.software_statement !== undefined && {
      software_statement: record.software_statement,
    }),
    registration_client_uri: credentials.registration_client_uri,
    registration_access_token: credentials.registration_access_token,
  }
  return info
}

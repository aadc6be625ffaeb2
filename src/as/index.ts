// The AS side of Registrar (issue 10): what an authorization server needs of the clients Registrar
// registers. Re-exported from the package root.
export type { AuthenticationAttempt } from './client-authentication.js'
export {
  type ClientRegistryEvents,
  ClientRegistryService,
  type CreateClientRegistryOptions,
  createClientRegistry,
} from './client-registry.js'
export {
  type ClientAuthenticationFailureReason,
  clientAuthenticationErrorHeaders,
  clientAuthenticationErrorResponse,
  type FailureLimitScope,
} from './errors.js'
export type { FailureLimitReached } from './failure-limit.js'
export { matchRedirectUri } from './redirect-uri.js'
export type {
  AuthenticateClientOptions,
  AuthenticatedClient,
  ClientAuthenticationMethod,
  ClientAuthenticationRequest,
  ClientRegistry,
  ClientSource,
  RegisteredClient,
} from './types.js'

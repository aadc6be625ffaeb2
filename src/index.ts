// The public surface of `registrar`: re-exports only (docs/library-and-adapters.md). Internals the CLI and
// tests need are imported by path; importing this module loads neither pino nor node:http.

export type { RunningServer } from './adapters/node.js'
export type { CreateRegistrarOptions, RegistrarApp } from './app.js'
export { createRegistrar } from './app.js'
export * from './as/index.js'
export { ConfigError, DEFAULTS } from './config/resolve.js'
export type {
  RegistrarConfig,
  RegistrarConfigInput,
  RegistrarSettings,
  RegistrationPolicy,
  TrustedIssuer,
} from './config/schema.js'
export type { ClientInformation } from './core/client-information.js'
export type { ErrorCode } from './core/errors.js'
export { RegistrationError } from './core/errors.js'
export type { RegistrationEvaluation, RegistrationEvents } from './core/registration.js'
export { Registrar } from './core/registration.js'
export type {
  ClientAssertionRecord,
  ClientChangeEvent,
  ClientRecord,
  CreateClientOptions,
  InitialAccessTokenRecord,
  Store,
} from './core/store.js'
export type { RegistrantContext } from './http/request.js'
export type { AccessLogger, RequestRouter } from './http/router.js'
export type { ClientMetadata } from './metadata/types.js'

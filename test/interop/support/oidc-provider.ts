import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider, { type Configuration } from 'oidc-provider'

/** RFC 7592 management with the registration access token rotated on every update. */
export const MANAGEMENT = { enabled: true, rotateRegistrationAccessToken: true } as const

/** oidc-provider on 127.0.0.1:0 with an http issuer (it allows one, for development). */
export async function startProvider(configuration: Configuration) {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const provider = new Provider(issuer, configuration)
  server.on('request', provider.callback())
  return {
    issuer,
    provider,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** oidc-provider with open registration and rotating management, as most tests want it. */
export function startOpenProvider() {
  return startProvider({
    features: {
      registration: { enabled: true, initialAccessToken: false },
      registrationManagement: MANAGEMENT,
      devInteractions: { enabled: false },
    },
  })
}

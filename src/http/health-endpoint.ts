import type { Registrar } from '../core/registration.js'
import { type HttpResponse, json } from './respond.js'

/** `/healthz` at the root and under the issuer's path `base`. */
export function healthPaths(base: string): string[] {
  return ['/healthz', `${base}/healthz`]
}

/**
 * `GET /healthz`: 200 while the store answers, 503 `temporarily_unavailable` otherwise, so that a
 * load balancer takes an instance whose database is gone out of rotation. Never cached.
 */
export async function healthEndpoint(registrar: Registrar): Promise<HttpResponse> {
  try {
    await registrar.store.ping()
    return json(200, { status: 'ok' }, { 'cache-control': 'no-store' })
  } catch {
    return json(
      503,
      {
        status: 'unavailable',
        error: 'temporarily_unavailable',
        error_description: 'the store does not answer',
      },
      { 'cache-control': 'no-store' },
    )
  }
}

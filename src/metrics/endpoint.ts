import { RegistrationError } from '../core/errors.js'
import type { HttpRequest } from '../http/request.js'
import { errorResponse, type HttpResponse } from '../http/respond.js'
import type { RequestRouter } from '../http/router.js'
import type { RegistrarMetrics } from './metrics.js'

/**
 * `GET {path}/metrics`: the Prometheus text exposition of {@link RegistrarMetrics}. Its own
 * router, composed in front of the public one only when `metrics.enabled` (and `metrics.listen`
 * is unset), or served alone on the metrics listener.
 */
export function createMetricsRouter(metrics: RegistrarMetrics, basePath = ''): RequestRouter {
  const path = `${basePath}/metrics`
  async function serve(request: HttpRequest): Promise<HttpResponse> {
    if (request.path !== path) {
      return errorResponse(
        new RegistrationError('invalid_request', 'no such endpoint', { status: 404 }),
      )
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const response = errorResponse(
        new RegistrationError('invalid_request', `method ${request.method} is not allowed here`, {
          status: 405,
        }),
      )
      response.headers.allow = 'GET, HEAD'
      return response
    }
    const { contentType, body } = await metrics.render()
    return {
      status: 200,
      headers: { 'content-type': contentType, 'cache-control': 'no-store' },
      body,
    }
  }
  return Object.assign(serve, {
    matches: (p: string) => p === path,
    paths: Object.freeze([path]),
  })
}

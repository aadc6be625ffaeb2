import type { RegistrarConfig } from '../core/config.js'
import type { Store } from '../core/store.js'

export async function openPostgresStore(
  _url: string,
  _options?: RegistrarConfig['postgres'],
): Promise<Store> {
  throw new Error('the PostgreSQL store is not built yet (issue 4)')
}

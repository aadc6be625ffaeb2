// oidc-provider has no `exports` map and does not name its in-memory adapter in its entry point;
// it is the adapter oidc-provider itself falls back to when none is configured.
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type { AdapterConstructor } from 'oidc-provider'

  const MemoryAdapter: AdapterConstructor
  export default MemoryAdapter
}

/**
 * A point in time as operators write it, in epoch seconds: an ISO 8601 date or date-time (UTC
 * unless it names an offset), a duration ago (`90m`, `24h`, `7d`), or epoch seconds. Undefined
 * when it is none of these.
 */
export function parseTime(value: string, nowMs: number): number | undefined {
  if (/^\d{9,11}$/.test(value)) return Number(value)
  const ago = /^(\d{1,6})([smhd])$/.exec(value)
  if (ago) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[ago[2] as 's' | 'm' | 'h' | 'd']
    return Math.floor(nowMs / 1000) - Number(ago[1]) * unit
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const iso = value.length === 10 ? `${value}T00:00:00Z` : value.replace(' ', 'T')
    const ms = Date.parse(/Z|[+-]\d{2}:?\d{2}$/.test(iso) ? iso : `${iso}Z`)
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000)
  }
  return undefined
}

/** Epoch seconds as an ISO 8601 date-time, UTC, seconds precision. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

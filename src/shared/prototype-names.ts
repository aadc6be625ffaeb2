/** Member names that would reach an object's prototype when copied with `obj[name] = …`. */
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Whether `name` must never become a member of a record built from untrusted input (a config
 * file, software statement claims, extension fields, JWK members): `__proto__`, `constructor`,
 * `prototype`. The one guard every such copy uses.
 */
export function isPrototypeName(name: string): boolean {
  return PROTOTYPE_NAMES.has(name)
}

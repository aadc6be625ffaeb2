// Node 20 has String.prototype.isWellFormed (ES2024); the rest of lib.es2024 (Object.groupBy,
// Promise.withResolvers) it lacks, so only this member is declared.
interface String {
  isWellFormed(): boolean
}

#!/usr/bin/env node
// npm runs `prepare` after `npm install` in a checkout and when installing from git, never when
// installing the published tarball (which ships dist/). In a checkout it builds, so that the
// examples (which import the package by name, i.e. dist/) run right after `npm install`; anywhere
// without the sources or the compiler it does nothing.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const checkout = existsSync('src/index.ts') && existsSync('tsconfig.build.json')
const compiler = existsSync('node_modules/typescript/package.json')
if (checkout && compiler) {
  const result = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}

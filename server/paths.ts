/**
 * The project's root directory, found by walking up to package.json, so file
 * lookups (migrations, fixtures, the web build) work the same from the sources
 * run by tsx and from the single-file bundle `npm start` runs.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'server'))) return dir
    if (dirname(dir) === dir) throw new Error(`no project root above ${from}`)
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))

/** A path inside the project. */
export const projectPath = (...parts: string[]): string => join(ROOT, ...parts)

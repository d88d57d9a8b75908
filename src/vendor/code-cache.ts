// The vendored bundles (oclif, got) are CommonJS files that the build wraps in a small ES
// module (dist/vendor/<name>.js); this is what that module calls to load them, with a V8 code
// cache of everything the first run compiled.
//
// Why not Node's own compile cache (module.enableCompileCache(), on in bin/run.js) for these:
// it stores each module's code as V8 has compiled it when the module loads, and V8 compiles a
// function only when it is first called. For a 700 KB bundle that is the top level and not much
// more (59 KB of cache for oclif): every run parses and compiles again each function it calls
// (measured: importing the oclif bundle took ~50 ms of each command's start-up, ~100 ms for
// got). A cache made after the run (vm.Script#createCachedData) holds those functions too:
// oclif then loads in ~25 ms and got in ~60 ms. The npm package that used to do this
// (v8-compile-cache) hooks require() only and has been unmaintained since 2021.
//
// The cache is made once, at the end of the first run of a build on a Node version (or when
// V8 rejects it), in the user's cache directory (BFLY_CODE_CACHE: a directory, or `off`).
// A cache is code: it is used only from a directory and a file that are the user's own and that
// nobody else can write to (BFLY_CODE_CACHE=/tmp must not let another user run code as this one).
// Nothing here can fail a command: an unreadable, corrupt, foreign or stale cache is rejected
// by V8's own checks (V8 version, flags, source length, checksum) and rebuilt; the name of the
// file carries the build's hash of the bundle and the bundle's size and mtime, so a changed
// bundle never meets a cache made for another one.
import {closeSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {homedir} from 'node:os'
import {dirname, isAbsolute, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Script} from 'node:vm'

/** Where the caches go; undefined: no cache (BFLY_CODE_CACHE=off, or no home to put it in). */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: () => string = homedir): string | undefined {
  const setting = env.BFLY_CODE_CACHE?.trim()
  if (setting && /^(off|0|false|no)$/i.test(setting)) return undefined
  if (setting && isAbsolute(setting)) return setting
  let base: string | undefined
  try {
    if (platform === 'win32') base = env.LOCALAPPDATA && isAbsolute(env.LOCALAPPDATA) ? env.LOCALAPPDATA : undefined
    else if (platform === 'darwin') base = join(home(), 'Library', 'Caches')
    else base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home(), '.cache')
  } catch {
    return undefined
  }
  return base && isAbsolute(base) ? join(base, 'bfly', 'code-cache') : undefined
}

/**
 * Whether `path` belongs to this user and nobody else may write to it (POSIX; on Windows the
 * default directory is in the user's own profile). `missing`: what a path not there yet counts as.
 */
function ownedByUser(path: string, missing: boolean): boolean {
  if (typeof process.getuid !== 'function') return true
  try {
    const stat = statSync(path)
    return stat.uid === process.getuid() && (stat.mode & 0o022) === 0
  } catch {
    return missing
  }
}

/** The file's bytes, if it is this user's and nobody else may write to it (checked on the open file). */
function readOwnFile(path: string): Buffer | undefined {
  const fd = openSync(path, 'r')
  try {
    const stat = fstatSync(fd)
    if (typeof process.getuid === 'function' && (stat.uid !== process.getuid() || (stat.mode & 0o022) !== 0)) return undefined
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

interface Pending {
  script: Script
  file: string
}

/** Bundles loaded without a usable cache this run: their caches are made by saveCodeCaches(). */
const pending: Pending[] = []

/**
 * Runs dist/vendor/<name>.cjs as CommonJS, with the cache when there is one, and returns its
 * exports. `key` is the build's hash of the bundle; `importer` does the bundle's dynamic
 * import()s (rewritten by the build: a vm.Script cannot import without an experimental flag).
 */
export function loadBundle(wrapperUrl: string, name: string, key: string, importer: (specifier: string) => Promise<unknown>): Record<string, unknown> {
  const file = join(dirname(fileURLToPath(wrapperUrl)), `${name}.cjs`)
  const source = readFileSync(file, 'utf8')
  const dir = codeCacheDir()
  let cacheFile: string | undefined
  let cachedData: Buffer | undefined
  if (dir && ownedByUser(dir, true)) {
    try {
      const {size, mtimeMs} = statSync(file)
      cacheFile = join(dir, `${name}-${key}-${size}-${Math.trunc(mtimeMs)}-${process.version}-${process.arch}.bin`)
      cachedData = readOwnFile(cacheFile)
    } catch {
      // no cache yet
    }
  }
  // One line: the bundle's own line numbers stay right in stack traces. Strict, as the bundle
  // was when it was an ES module.
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __bflyImport) {"use strict";${source}\n})`, {filename: file, cachedData})
  const module = {exports: {} as Record<string, unknown>}
  const body = script.runInThisContext() as (...args: unknown[]) => void
  body.call(module.exports, module.exports, createRequire(file), module, file, dirname(file), importer)
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) pending.push({script, file: cacheFile})
  return module.exports
}

/**
 * Writes the caches of the bundles loaded without one, with the functions compiled so far.
 * Call it at the end of a run, and before anything changes V8's flags: V8 stamps a cache with
 * a hash of its flags and rejects it in a process whose flags differ.
 */
export function saveCodeCaches(): void {
  for (const {script, file} of pending.splice(0)) {
    const tmp = `${file}.${process.pid}.tmp`
    try {
      const data = script.createCachedData()
      mkdirSync(dirname(file), {recursive: true, mode: 0o700})
      if (!ownedByUser(dirname(file), false)) continue
      writeFileSync(tmp, data, {mode: 0o600})
      renameSync(tmp, file)
      // Caches of other builds (an upgrade, another Node) go once they are a month old: two
      // installed versions of bfly each keep theirs instead of evicting each other's.
      const dir = dirname(file)
      const old = Date.now() - 30 * 24 * 3600 * 1000
      for (const other of readdirSync(dir)) {
        const path = join(dir, other)
        if (path !== file && statSync(path).mtimeMs < old) rmSync(path, {force: true})
      }
    } catch {
      // Best effort: without a cache the next run compiles the bundle as this one did.
      try {
        rmSync(tmp, {force: true})
      } catch {
        // (force ignores a missing file only: a file where a directory should be still throws)
      }
    }
  }
}

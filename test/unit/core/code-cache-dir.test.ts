// Where the vendored bundles' code cache goes (src/vendor/code-cache.ts): the platform's cache
// directory, BFLY_CODE_CACHE to move it or turn it off, and nowhere when there is no home.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {codeCacheDir} from '../../../dist/vendor/code-cache.js'

const home = () => '/home/ada'

test('the platform cache directory by default', () => {
  assert.equal(codeCacheDir({}, 'linux', home), '/home/ada/.cache/bfly/code-cache')
  assert.equal(codeCacheDir({XDG_CACHE_HOME: '/xdg'}, 'linux', home), '/xdg/bfly/code-cache')
  // XDG says a relative path is invalid and is to be ignored.
  assert.equal(codeCacheDir({XDG_CACHE_HOME: 'rel'}, 'linux', home), '/home/ada/.cache/bfly/code-cache')
  assert.equal(codeCacheDir({}, 'darwin', home), '/home/ada/Library/Caches/bfly/code-cache')
})

test('BFLY_CODE_CACHE: an absolute directory, or off', () => {
  assert.equal(codeCacheDir({BFLY_CODE_CACHE: '/tmp/cc'}, 'linux', home), '/tmp/cc')
  for (const off of ['off', 'OFF', '0', 'false', 'no']) assert.equal(codeCacheDir({BFLY_CODE_CACHE: off}, 'linux', home), undefined, off)
  // Anything else is not a place to write to: the default stays.
  assert.equal(codeCacheDir({BFLY_CODE_CACHE: 'relative/dir'}, 'linux', home), '/home/ada/.cache/bfly/code-cache')
})

test('no home, no cache', () => {
  const homeless = () => {
    throw new Error('no home')
  }
  assert.equal(codeCacheDir({}, 'linux', homeless), undefined)
  assert.equal(codeCacheDir({}, 'linux', () => ''), undefined)
  assert.equal(codeCacheDir({}, 'win32', home), undefined)
})

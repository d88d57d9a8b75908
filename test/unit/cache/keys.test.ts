// What a cached answer is filed under: profile, host, identity, Accept, path, query.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {credentialIdentity, entryKey, hasSecretQuery, normalizeUrl, partitionOf} from '../../../dist/cache/keys.js'

const identity = credentialIdentity({source: 'env', env: {BFLY_TOKEN: 'token-of-alice-123'}})
const base = {profile: 'default', origin: 'https://api.example.com', identity, accept: 'application/json'}
const key = (parts: Partial<typeof base>, url = 'https://api.example.com/api/v1/capsules/cap_1') => entryKey(partitionOf({...base, ...parts}), normalizeUrl(new URL(url)))

describe('cache keys', () => {
  test('the same read has the same key', () => {
    assert.equal(key({}), key({}))
  })
  test('profile, host, identity and Accept each change the key', () => {
    const keys = [
      key({}),
      key({profile: 'prod'}),
      key({origin: 'https://staging.example.com'}, 'https://staging.example.com/api/v1/capsules/cap_1'),
      key({origin: 'https://api.example.com:8443'}, 'https://api.example.com:8443/api/v1/capsules/cap_1'),
      key({identity: credentialIdentity({source: 'env', env: {BFLY_TOKEN: 'token-of-bob-456'}})}),
      key({accept: 'text/csv'}),
    ]
    assert.equal(new Set(keys).size, keys.length)
  })
  test('Accept spelling does not matter, its value does', () => {
    assert.equal(key({accept: 'Application/JSON'}), key({accept: 'application/json'}))
  })
  test('path and query change the key; query order and fragments do not', () => {
    const u = 'https://api.example.com/api/v1/capsules'
    assert.notEqual(key({}, `${u}?scopeId=rim:a:b:c&page=0`), key({}, `${u}?scopeId=rim:a:b:c&page=1`))
    assert.notEqual(key({}, `${u}/cap_1`), key({}, `${u}/cap_2`))
    assert.equal(key({}, `${u}?page=0&scopeId=rim:a:b:c`), key({}, `${u}?scopeId=rim:a:b:c&page=0#x`))
  })
})

describe('credential identity', () => {
  test('a hash: the token itself appears nowhere', () => {
    const id = credentialIdentity({source: 'env', env: {BFLY_TOKEN: 'token-of-alice-123'}})
    assert.match(id, /^[0-9a-f]{64}$/)
    assert.doesNotMatch(id, /alice/)
    assert.ok(!key({}).includes('alice'))
  })
  test('switching BFLY_TOKEN or the API key switches identity; token and key never collide', () => {
    const ids = [
      credentialIdentity({source: 'env', env: {BFLY_TOKEN: 'a-token'}}),
      credentialIdentity({source: 'env', env: {BFLY_TOKEN: 'another-token'}}),
      credentialIdentity({source: 'api-key', env: {BUTTERFLY_API_KEY: 'a-token'}}),
      credentialIdentity({source: 'anonymous', env: {}}),
    ]
    assert.equal(new Set(ids).size, ids.length)
  })
  test('a stored login is its subject: stable across token refreshes, different for another user or login', () => {
    const alice = credentialIdentity({source: 'keychain', env: {}, session: {issuer: 'https://auth', subject: 'alice', loggedInAt: '2025-12-01T00:00:00Z'}})
    assert.equal(alice, credentialIdentity({source: 'keychain', env: {}, session: {issuer: 'https://auth', subject: 'alice', loggedInAt: '2025-12-02T00:00:00Z'}}))
    assert.notEqual(alice, credentialIdentity({source: 'keychain', env: {}, session: {issuer: 'https://auth', subject: 'bob'}}))
    const unknownA = credentialIdentity({source: 'file', env: {}, session: {loggedInAt: '2025-12-01T00:00:00Z'}})
    const unknownB = credentialIdentity({source: 'file', env: {}, session: {loggedInAt: '2025-12-02T00:00:00Z'}})
    assert.notEqual(unknownA, unknownB, 'without a subject, each login is its own identity')
  })
})

describe('URLs that are never cached', () => {
  test('secrets in the query or userinfo', () => {
    assert.equal(hasSecretQuery(new URL('https://h/x?access_token=abc')), true)
    assert.equal(hasSecretQuery(new URL('https://h/x?API_KEY=abc')), true)
    assert.equal(hasSecretQuery(new URL('https://u:p@h/x')), true)
    assert.equal(hasSecretQuery(new URL('https://h/api/v1/capsules?scopeId=rim:a:b:c&page=2')), false)
  })
})

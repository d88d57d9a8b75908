// Where tokens go: the keychain when it answers, else the 0600 file with exactly one warning.
import assert from 'node:assert/strict'
import {mkdtempSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {CredentialStore} from '../../../dist/auth/credential-store.js'
import {KeychainUnavailable} from '../../../dist/auth/keychain.js'

const record = (accessToken: string) => ({version: 1 as const, kind: 'user' as const, accessToken, refreshToken: `rt-${accessToken}`, expiresAt: 1})

function fakeKeychain(mode: 'ok' | 'timeout' | 'failure') {
  const entries = new Map<string, string>()
  const calls: string[] = []
  const fail = () => {
    throw new KeychainUnavailable(mode === 'timeout' ? 'the OS keychain did not answer within 3 s' : 'the OS keychain refused: no bus', mode === 'timeout' ? 'timeout' : 'failure')
  }
  return {
    entries,
    calls,
    keychain: {
      async get(account: string) {
        calls.push(`get ${account}`)
        if (mode !== 'ok') fail()
        return entries.get(account)
      },
      async set(account: string, value: string) {
        calls.push(`set ${account}`)
        if (mode !== 'ok') fail()
        entries.set(account, value)
      },
      async delete(account: string) {
        calls.push(`delete ${account}`)
        if (mode !== 'ok') fail()
        return entries.delete(account)
      },
    },
  }
}

function store(mode: 'ok' | 'timeout' | 'failure', env: NodeJS.ProcessEnv = {}) {
  const fake = fakeKeychain(mode)
  const warnings: string[] = []
  const configDir = mkdtempSync(join(tmpdir(), 'bfly-store-'))
  const s = new CredentialStore({configDir, env, warn: (m: string) => warnings.push(m), trace: () => {}, keychain: fake.keychain as never})
  return {s, fake, warnings, configDir}
}

describe('credential store', () => {
  test('a working keychain holds the tokens; no file', async () => {
    const {s, fake} = store('ok')
    assert.equal(await s.write('default:https://i', record('a')), 'keychain')
    assert.ok(fake.entries.get('default:https://i')!.includes('"accessToken":"a"'))
    assert.deepEqual(await s.read('default:https://i', 'keychain'), {record: record('a'), storage: 'keychain'})
    assert.throws(() => statSync(s.filePath('default:https://i')), /ENOENT/)
    await s.remove('default:https://i')
    assert.equal(fake.entries.size, 0)
  })

  test('a stuck keychain: file with mode 0600, one warning for the whole invocation, no second wait', async () => {
    const {s, fake, warnings} = store('timeout')
    assert.equal(await s.write('default:https://i', record('a')), 'file')
    assert.equal(await s.write('default:https://i', record('b')), 'file')
    assert.equal(warnings.length, 1)
    assert.match(warnings[0], /did not answer within 3 s; the login is stored in .*credentials.* instead \(readable only by you\)/)
    assert.deepEqual(fake.calls, ['set default:https://i'], 'the keychain is asked once per invocation')
    assert.equal(statSync(s.filePath('default:https://i')).mode & 0o777, 0o600)
    assert.equal(statSync(s.directory).mode & 0o777, 0o700)
    assert.equal((await s.read('default:https://i', 'keychain'))!.record.accessToken, 'b')
  })

  test('BFLY_KEYCHAIN=off: the file, silently, without asking the keychain', async () => {
    const {s, fake, warnings} = store('ok', {BFLY_KEYCHAIN: 'off'})
    assert.equal(await s.write('p:https://i', record('a')), 'file')
    assert.deepEqual(await s.read('p:https://i', 'keychain'), {record: record('a'), storage: 'file'})
    await s.remove('p:https://i')
    assert.deepEqual(fake.calls, [])
    assert.deepEqual(warnings, [])
  })

  test('a login kept in an unreachable keychain is an auth error with a way out, not a hang or "not logged in"', async () => {
    const {s} = store('failure')
    await assert.rejects(s.read('default:https://i', 'keychain'), (e: unknown) => {
      const error = e as {code: string; exitCode: number; hint: string}
      return error.code === 'KEYCHAIN_UNAVAILABLE' && error.exitCode === 3 && /BFLY_KEYCHAIN=off/.test(error.hint)
    })
  })

  test('profiles and issuers get their own files', async () => {
    const {s} = store('ok', {BFLY_KEYCHAIN: 'off'})
    await s.write('a:https://i', record('1'))
    await s.write('b:https://i', record('2'))
    await s.write('a:https://j', record('3'))
    assert.equal((await s.read('a:https://i', 'file'))!.record.accessToken, '1')
    assert.equal((await s.read('b:https://i', 'file'))!.record.accessToken, '2')
    assert.equal((await s.read('a:https://j', 'file'))!.record.accessToken, '3')
    assert.deepEqual((await s.fileAccounts()).sort(), ['a:https://i', 'a:https://j', 'b:https://i'])
  })
})

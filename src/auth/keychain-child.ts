// Runs one OS keychain call and exits: spawned by keychain.ts so that a Secret Service that
// never answers can be abandoned (SIGKILL). In-process that is impossible: the native calls
// sit on libuv's thread pool (or block the event loop in the constructor), and Node's exit
// joins those threads, so one stuck D-Bus call would hang the CLI forever.
// Protocol: one JSON request on stdin, one JSON answer on stdout. Secrets never go in argv.
import {createRequire} from 'node:module'

interface Request {
  op: 'get' | 'set' | 'delete'
  service: string
  account: string
  secret?: string
}

interface KeyringModule {
  AsyncEntry: new (service: string, account: string, options?: {linux?: {store?: 'secret-service' | 'keyutils'}}) => {
    getPassword(): Promise<string | null>
    setPassword(password: string): Promise<void>
    deletePassword(): Promise<boolean>
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function answer(value: unknown): void {
  process.stdout.write(JSON.stringify(value))
}

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as Request
  const {AsyncEntry} = createRequire(import.meta.url)('@napi-rs/keyring') as KeyringModule
  // Pinned to the Secret Service on Linux: the kernel keyring fallback forgets everything at
  // logout, which would look like a lost session.
  const entry = new AsyncEntry(request.service, request.account, {linux: {store: 'secret-service'}})
  switch (request.op) {
    case 'get':
      return answer({ok: true, value: (await entry.getPassword()) ?? null})
    case 'set':
      await entry.setPassword(request.secret ?? '')
      return answer({ok: true})
    case 'delete':
      return answer({ok: true, value: await entry.deletePassword()})
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    answer({ok: false, error: String(error?.message ?? error).split('\n')[0].slice(0, 300)})
    process.exit(0)
  },
)

// The loopback redirect of a native app (RFC 8252 §7.3): a listener on 127.0.0.1 at a random
// port, path /callback, that takes exactly one answer carrying our `state`, then closes.
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {AuthError, Interrupted} from '../errors.js'
import {formatDuration} from '../values.js'
import {OAuthError} from './oauth-http.js'

export const LOOPBACK_TIMEOUT_MS = 5 * 60_000

export interface CallbackAnswer {
  code: string
  /** RFC 9207 `iss`, when the server sends it. */
  iss?: string
}

export interface LoopbackOptions {
  state: string
  timeoutMs?: number
  signal?: AbortSignal
  trace?: (line: string) => void
}

export interface Loopback {
  redirectUri: string
  /** Settles on the first callback with our state, a timeout or Ctrl-C; the listener is closed by then. */
  answer: Promise<CallbackAnswer>
  close(): Promise<void>
}

const page = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;margin:4em"><h1>${title}</h1><p>${text}</p></body></html>`

export async function startLoopback(options: LoopbackOptions): Promise<Loopback> {
  const timeoutMs = options.timeoutMs ?? LOOPBACK_TIMEOUT_MS
  let settle!: {resolve: (a: CallbackAnswer) => void; reject: (e: Error) => void}
  const answer = new Promise<CallbackAnswer>((resolve, reject) => (settle = {resolve, reject}))
  // Nobody may be awaiting yet when it fails (e.g. Ctrl-C while the URL is printed).
  answer.catch(() => {})
  let done = false

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const reply = (status: number, title: string, text: string) => {
      res.writeHead(status, {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close', 'referrer-policy': 'no-referrer'})
      res.end(page(title, text))
    }
    if (req.method !== 'GET' || url.pathname !== '/callback' || done) {
      reply(404, 'Not found', 'This is the bfly login listener.')
      return
    }
    const params = url.searchParams
    if (params.get('state') !== options.state) {
      // Not our login (a stale tab, or a forged request): refuse it and keep waiting for ours.
      options.trace?.('loopback: a callback without this login\'s state was refused')
      reply(400, 'Login not recognised', 'This answer does not belong to the login bfly is waiting for.')
      return
    }
    done = true
    const error = params.get('error')
    if (error) {
      reply(200, 'Login failed', `The authorization server answered ${error}. You can close this window.`)
      finish(new OAuthError(error, params.get('error_description') ?? undefined, 400))
      return
    }
    const code = params.get('code')
    if (!code) {
      reply(400, 'Login failed', 'The answer carries no authorization code.')
      finish(new AuthError('the browser login answered without an authorization code', {code: 'LOGIN_FAILED', hint: 'run `bfly login` again'}))
      return
    }
    reply(200, 'Logged in', 'bfly has your login. You can close this window and return to the terminal.')
    finish(undefined, {code, iss: params.get('iss') ?? undefined})
  })

  const timer = setTimeout(() => {
    done = true
    finish(new AuthError(`the browser login did not finish within ${formatDuration(timeoutMs)}`, {
      code: 'LOGIN_TIMEOUT',
      hint: 'run `bfly login` again, or `bfly login --device` to log in from another device',
    }))
  }, timeoutMs)
  const onAbort = () => {
    done = true
    finish(new Interrupted('login cancelled'))
  }
  options.signal?.addEventListener('abort', onAbort, {once: true})

  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      server.close(() => resolve())
      // The browser may keep its connection open; the answer page is already written.
      setImmediate(() => server.closeAllConnections())
    })
    return closed
  }
  function finish(error: Error | undefined, result?: CallbackAnswer) {
    void close()
    if (error) settle.reject(error)
    else settle.resolve(result!)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  if (options.signal?.aborted) onAbort()
  const {port} = server.address() as AddressInfo
  return {redirectUri: `http://127.0.0.1:${port}/callback`, answer, close}
}

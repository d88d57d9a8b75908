// `bfly doctor`: gathers the facts behind each check (settings and where they came from, DNS,
// TCP, TLS, HTTP, the clock, OAuth discovery, credentials, keychain, rate limit, circuits)
// and hands them to the verdicts. Every network step is bounded; a check that crashes is a
// failed check with its message, never a stack trace; nothing secret is ever put in a detail.
import type {Context} from '../../context.js'
import {BflyError} from '../../errors.js'
import {
  type Check,
  certificateVerdict,
  circuitVerdict,
  clockVerdict,
  median,
  nodeVerdict,
  rateLimitVerdict,
  redactProxy,
  tokenVerdict,
} from './verdicts.js'

export interface DoctorOptions {
  /** Bound of each network step. */
  timeoutMs: number
  /** HTTP requests whose latency is summarised. */
  samples: number
}

const ORIGIN: Record<string, string> = {flag: 'from the flag', env: 'from the environment', profile: 'from the profile', default: 'the default', discovered: 'discovered from the API'}

class Bound extends Error {}

function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Bound(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([work, limit]).finally(() => clearTimeout(timer))
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** A check whose gathering threw: a failure with the reason, never a crash of doctor. */
async function guarded(name: string, run: () => Promise<Check>, remedy?: string): Promise<Check> {
  try {
    return await run()
  } catch (error) {
    return {name, status: 'fail', detail: message(error), remedy: error instanceof BflyError ? error.hint ?? remedy : remedy}
  }
}

/** What the API's host is reached through: its own address, or the proxy's. */
interface Route {
  url: URL
  proxy?: URL
}

async function caInUse(ctx: Context): Promise<{label: string; extra?: Buffer}> {
  const settings = await ctx.settings()
  if (settings.caFile) {
    const {readFile} = await import('node:fs/promises')
    const extra = await readFile(settings.caFile).catch((error: Error) => {
      throw new BflyError(`cannot read the ca-file ${settings.caFile}: ${error.message}`, {code: 'CA_FILE', exitCode: 2, hint: 'fix --ca-file or `bfly config unset ca-file`'})
    })
    return {label: `the system roots and ca-file ${settings.caFile}`, extra}
  }
  if (ctx.env.NODE_EXTRA_CA_CERTS) return {label: `the system roots and NODE_EXTRA_CA_CERTS (${ctx.env.NODE_EXTRA_CA_CERTS})`}
  return {label: "Node's bundled roots"}
}

async function trustedCas(extra: Buffer | undefined): Promise<string[] | undefined> {
  if (!extra) return undefined
  const {withDefaultCas} = await import('../../api/network.js')
  return withDefaultCas(extra)
}

export async function runDoctor(ctx: Context, options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = []
  const now = () => ctx.now()
  checks.push(nodeVerdict(process.version, `${process.platform}-${process.arch}`))
  checks.push({name: 'profile', status: 'pass', detail: `${ctx.profile} (${ORIGIN[ctx.profileOrigin]})`})

  let settings: Awaited<ReturnType<Context['settings']>>
  try {
    settings = await ctx.settings()
  } catch (error) {
    checks.push({name: 'config', status: 'fail', detail: message(error), remedy: error instanceof BflyError ? error.hint : undefined})
    return checks
  }
  const apiOrigin = settings.origins['api-url']
  let api: URL | undefined
  if (!settings.apiUrl) {
    checks.push({name: 'api-url', status: 'fail', detail: 'no API URL configured', remedy: 'pass --api-url, set BFLY_API_URL, or run `bfly config set api-url https://…`'})
  } else {
    api = new URL(settings.apiUrl)
    checks.push({name: 'api-url', status: 'pass', detail: `${settings.apiUrl} (${ORIGIN[apiOrigin.origin]})`})
  }

  let route: Route | undefined
  if (api) {
    const {proxyFor, isLoopbackHost} = await import('../../api/network.js')
    let proxy: string | undefined
    try {
      proxy = proxyFor(api, ctx.env)
    } catch (error) {
      // A proxy setting that is not a URL (or a socks one): every request would fail the same way.
      checks.push({name: 'proxy', status: 'fail', detail: message(error), remedy: error instanceof BflyError ? error.hint : undefined})
      return checks
    }
    route = {url: api, proxy: proxy ? new URL(proxy) : undefined}
    const direct = isLoopbackHost(api.hostname) ? 'none (loopback is never proxied)' : ctx.env.NO_PROXY || ctx.env.no_proxy ? 'none for this host (direct; NO_PROXY applies)' : 'none (direct)'
    checks.push(proxy
      ? {name: 'proxy', status: 'pass', detail: `${redactProxy(proxy)} (from ${api.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'})`}
      : {name: 'proxy', status: 'pass', detail: direct})
  }

  // The connection checks first and alone, so their timings are not the time other checks
  // spend loading modules; the rest then run side by side.
  const reached = route ? await networkChecks(ctx, route, options) : []
  checks.push(...reached)
  const reachable = route !== undefined && !reached.some((c) => c.status === 'fail')
  const [oauth, auth, keychain, circuits] = await Promise.all([
    api || settings.issuer ? guarded('oauth', () => oauthCheck(ctx, options)) : skip('oauth', 'no API URL or issuer to discover'),
    reachable ? credentialChecks(ctx, now) : [skip('credentials', route ? 'the API is not reachable' : 'no API URL')],
    guarded('keychain', () => keychainCheck(ctx, options)),
    guarded('circuits', async () => {
      const {circuitStatus} = await import('../circuit/circuit.js')
      return circuitVerdict(await circuitStatus(ctx), api?.host)
    }),
  ])
  // OAuth matters only to a stored login or client credentials.
  const source = auth.find((c) => c.name === 'credentials')?.detail ?? ''
  if (oauth.status === 'fail' && /^(BFLY_TOKEN|BUTTERFLY_API_KEY)/.test(source)) oauth.status = 'warn'
  checks.push(oauth, ...auth, keychain, circuits)
  return checks
}

async function networkChecks(ctx: Context, route: Route, options: DoctorOptions): Promise<Check[]> {
  const out: Check[] = []
  const target = route.proxy ?? route.url
  const host = target.hostname.replace(/^\[|\]$/g, '')
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80))
  const via = route.proxy ? ' (the proxy)' : ''
  const net = await import('node:net')

  // DNS
  if (net.isIP(host)) {
    out.push({name: 'dns', status: 'pass', detail: `${host}${via} is an IP address`})
  } else {
    const dns = await import('node:dns/promises')
    try {
      const started = performance.now()
      const addresses = await bounded(dns.lookup(host, {all: true}), options.timeoutMs, `resolving ${host}`)
      out.push({name: 'dns', status: 'pass', detail: `${host}${via} → ${addresses.map((a) => a.address).join(', ')} (${Math.round(performance.now() - started)} ms)`})
    } catch (error) {
      out.push({name: 'dns', status: 'fail', detail: `cannot resolve ${host}${via}: ${message(error)}`, remedy: 'check the host name in the API URL, the DNS resolver, or a VPN that must be up'})
      return [...out, skip('tcp', 'no address'), skip('tls', 'no address'), skip('http', 'no address'), skip('clock', 'no answer from the server')]
    }
  }

  // TCP
  try {
    const started = performance.now()
    await bounded(new Promise<void>((resolve, reject) => {
      const socket = net.connect({host, port})
      socket.once('connect', () => (socket.destroy(), resolve()))
      socket.once('error', (error) => (socket.destroy(), reject(error)))
      socket.setTimeout(options.timeoutMs, () => socket.destroy(new Error('timed out')))
    }), options.timeoutMs + 100, `connecting to ${host}:${port}`)
    out.push({name: 'tcp', status: 'pass', detail: `connected to ${host}:${port}${via} in ${Math.round(performance.now() - started)} ms`})
  } catch (error) {
    const code = (error as {code?: string}).code
    out.push({name: 'tcp', status: 'fail', detail: `cannot connect to ${host}:${port}${via}: ${code === 'ECONNREFUSED' ? 'connection refused' : message(error)}`, remedy: route.proxy ? 'check HTTPS_PROXY / HTTP_PROXY: the proxy does not answer' : 'is the service up and the URL right? a firewall or VPN may be in the way'})
    return [...out, skip('tls', 'no connection'), skip('http', 'no connection'), skip('clock', 'no answer from the server')]
  }

  // TLS (directly; through a proxy the HTTP check below goes through the tunnel and says so)
  const ca = await caInUse(ctx)
  if (route.url.protocol !== 'https:') {
    out.push(skip('tls', 'plain http: no TLS (bfly sends credentials over plain http to loopback only)'))
  } else if (route.proxy) {
    out.push(skip('tls', 'through the proxy: the HTTP check covers the tunnel'))
  } else {
    out.push(await guarded('tls', () => tlsCheck(route.url, ca, options, ctx.now())))
  }

  // HTTP reachability, latency and the server's clock
  out.push(...(await httpChecks(ctx, route, ca, options)))
  return out
}

const skip = (name: string, detail: string): Check => ({name, status: 'skip', detail})

async function tlsCheck(url: URL, ca: {label: string; extra?: Buffer}, options: DoctorOptions, nowMs: number): Promise<Check> {
  const [tls, net] = await Promise.all([import('node:tls'), import('node:net')])
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const cas = await trustedCas(ca.extra)
  const socket = tls.connect({host, port: Number(url.port || 443), servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false, ...(cas ? {ca: cas} : {})})
  try {
    await bounded(new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve)
      socket.once('error', reject)
    }), options.timeoutMs, `the TLS handshake with ${url.host}`)
    const cert = socket.getPeerCertificate()
    const subject = typeof cert.subject?.CN === 'string' ? `CN=${cert.subject.CN}` : undefined
    const issuer = typeof cert.issuer?.CN === 'string' ? `CN=${cert.issuer.CN}` : typeof cert.issuer?.O === 'string' ? cert.issuer.O : undefined
    if (!socket.authorized) {
      const reason = String(socket.authorizationError ?? 'not trusted')
      const expired = /CERT_HAS_EXPIRED/.test(reason)
      if (expired) return certificateVerdict({validTo: cert.valid_to, subject, issuer}, ca.label, nowMs)
      return {
        name: 'tls',
        status: 'fail',
        detail: `the certificate of ${url.host} is not trusted: ${reason}${issuer ? ` (issued by ${issuer})` : ''}; trusted: ${ca.label}`,
        remedy: /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY/.test(reason)
          ? 'a private CA? pass --ca-file /path/ca.pem (or `bfly config set ca-file`, or NODE_EXTRA_CA_CERTS)'
          : 'check that the API URL names the host the certificate was issued for',
      }
    }
    const identity = tls.checkServerIdentity(host, cert)
    if (identity) {
      return {name: 'tls', status: 'fail', detail: `the certificate does not name ${host}: ${identity.message}`, remedy: 'check the host name in the API URL'}
    }
    return certificateVerdict({validTo: cert.valid_to, subject, issuer}, ca.label, nowMs)
  } finally {
    socket.destroy()
  }
}

async function httpChecks(ctx: Context, route: Route, ca: {extra?: Buffer}, options: DoctorOptions): Promise<Check[]> {
  const [{default: got}, {proxyAgent}] = await Promise.all([import('../../vendor/got.js'), import('../../api/client.js')])
  const target = new URL('.well-known/oauth-protected-resource', route.url.href.endsWith('/') ? route.url : `${route.url.href}/`)
  const cas = await trustedCas(ca.extra)
  const agent = route.proxy ? await proxyAgent(target, route.proxy.href, cas) : undefined
  const latencies: number[] = []
  let last: {status: number; date?: string; at: number} | undefined
  try {
    for (let i = 0; i < options.samples; i++) {
      const started = performance.now()
      const response = await got(target, {
        method: 'GET',
        throwHttpErrors: false,
        retry: {limit: 0},
        followRedirect: false,
        timeout: {request: options.timeoutMs},
        headers: {'user-agent': `bfly/${ctx.version} doctor`, accept: 'application/json'},
        signal: ctx.signal,
        ...(agent ? {agent} : {}),
        ...(cas ? {https: {certificateAuthority: cas}} : {}),
      })
      latencies.push(performance.now() - started)
      last = {status: response.statusCode, date: response.headers.date, at: ctx.now()}
    }
  } catch (error) {
    const {networkErrorFrom, proxyFailure} = await import('../../api/network.js')
    const cause = (error as {cause?: {code?: string; message?: string}}).cause
    const failure = proxyFailure(error) ?? networkErrorFrom({code: cause?.code ?? (error as {code?: string}).code, message: cause?.message ?? message(error)}, route.url.host, options.timeoutMs, route.proxy?.href)
    return [
      {name: 'http', status: 'fail', detail: `GET ${target.pathname}: ${failure.message}`, remedy: failure.hint ?? 'check the API URL and that the service is up'},
      skip('clock', 'no answer from the server'),
    ]
  }
  const p50 = median(latencies)
  const through = route.proxy ? ' through the proxy' : ''
  const http: Check = last!.status >= 500
    ? {name: 'http', status: 'fail', detail: `HTTP ${last!.status} from ${route.url.host}${through} (p50 ${p50.toFixed(1)} ms over ${latencies.length})`, remedy: 'the service answers with errors: check its status page, or `bfly integrations status`'}
    : {name: 'http', status: 'pass', detail: `HTTP ${last!.status}${through}, p50 ${p50.toFixed(1)} ms over ${latencies.length} requests`}
  return [http, clockVerdict(last!.date, last!.at)]
}

async function oauthCheck(ctx: Context, options: DoctorOptions): Promise<Check> {
  const [{OAuthHttp}, {chooseIssuer, fetchMetadata}] = await Promise.all([import('../../auth/oauth-http.js'), import('../../auth/discovery.js')])
  const http = await OAuthHttp.create(ctx)
  const choice = await bounded(chooseIssuer(ctx, http), options.timeoutMs * 2, 'finding the issuer')
  const metadata = await bounded(fetchMetadata(http, choice.issuer), options.timeoutMs * 2, `reading the metadata of ${choice.issuer}`)
  const offers = [
    metadata.authorization_endpoint ? 'browser login' : undefined,
    metadata.device_authorization_endpoint ? 'device code' : undefined,
    metadata.revocation_endpoint ? 'revocation' : undefined,
  ].filter(Boolean)
  return {name: 'oauth', status: 'pass', detail: `issuer ${choice.issuer} (${ORIGIN[choice.origin]}); offers ${offers.join(', ') || 'token endpoint only'}`}
}

const SOURCE: Record<string, string> = {
  env: 'BFLY_TOKEN (used as is)',
  'api-key': 'BUTTERFLY_API_KEY',
  'client-credentials': 'BFLY_CLIENT_ID + BFLY_CLIENT_SECRET (client credentials)',
  keychain: 'the stored login, in the OS keychain',
  file: 'the stored login, in a 0600 file',
}

async function credentialChecks(ctx: Context, now: () => number): Promise<Check[]> {
  let source: string
  try {
    source = (await ctx.credentials()).source
  } catch (error) {
    const notLoggedIn = /not logged in/.test(message(error))
    return [
      {name: 'credentials', status: notLoggedIn ? 'warn' : 'fail', detail: notLoggedIn ? 'not logged in' : message(error), remedy: notLoggedIn ? 'run `bfly login` (or set BFLY_TOKEN / BUTTERFLY_API_KEY, or BFLY_CLIENT_ID + BFLY_CLIENT_SECRET in CI)' : (error as BflyError).hint},
      skip('token', 'no credentials'),
      skip('rate-limit', 'no authenticated request'),
    ]
  }
  const label = SOURCE[source] ?? source
  let response: {status: number; headers: Record<string, string | string[] | undefined>}
  try {
    const api = await ctx.api()
    response = await api.request({method: 'GET', path: '/api/v1/capsules', query: {size: 1}, raw: true})
  } catch (error) {
    return [
      {name: 'credentials', status: 'fail', detail: `${label}: ${message(error)}`, remedy: (error as BflyError).hint ?? 'run `bfly login` again'},
      skip('token', 'the authenticated request failed'),
      skip('rate-limit', 'the authenticated request failed'),
    ]
  }
  const checks: Check[] = []
  if (response.status === 401) checks.push({name: 'credentials', status: 'fail', detail: `${label}: rejected by the API (401)`, remedy: source === 'keychain' || source === 'file' ? 'run `bfly login` again' : 'the token or key is wrong or expired: get a new one'})
  else if (response.status === 403) checks.push({name: 'credentials', status: 'warn', detail: `${label}: accepted, but not allowed to read capsules (403)`, remedy: 'ask for the capsules:read scope, or log in with --scopes'})
  else if (response.status >= 400) checks.push({name: 'credentials', status: 'warn', detail: `${label}: the test request answered HTTP ${response.status}`})
  else checks.push({name: 'credentials', status: 'pass', detail: `${label}: accepted`})

  if (source === 'keychain' || source === 'file') {
    const facts = (await ctx.store()).session(ctx.profile)
    checks.push(tokenVerdict(facts?.expiresAt, now()))
  } else {
    checks.push(skip('token', source === 'client-credentials' ? 'client credentials: a new token for each run' : `${label}: its lifetime is the issuer's`))
  }
  checks.push(rateLimitVerdict(response.headers, now()))
  return checks
}

async function keychainCheck(ctx: Context, options: DoctorOptions): Promise<Check> {
  if ((ctx.env.BFLY_KEYCHAIN ?? '').toLowerCase() === 'off') {
    return {name: 'keychain', status: 'skip', detail: 'off (BFLY_KEYCHAIN=off): logins are kept in a file readable only by you'}
  }
  const {Keychain, KEYCHAIN_TIMEOUT_MS} = await import('../../auth/keychain.js')
  const bound = Math.min(KEYCHAIN_TIMEOUT_MS, options.timeoutMs)
  const started = performance.now()
  try {
    await new Keychain({env: ctx.env, timeoutMs: bound}).get('bfly:doctor')
    return {name: 'keychain', status: 'pass', detail: `the OS keychain answered in ${Math.round(performance.now() - started)} ms`}
  } catch (error) {
    return {name: 'keychain', status: 'warn', detail: `${message(error)}; logins fall back to a file readable only by you`, remedy: 'on Linux, a Secret Service (gnome-keyring, KeePassXC) must run and be unlocked; or set BFLY_KEYCHAIN=off'}
  }
}

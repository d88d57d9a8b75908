// `bfly doctor`: the checks and what each needs. The settings are read first (a broken config
// file is itself a finding); then every check runs as soon as its prerequisites have, side by
// side where independent (runner.ts). The I/O lives in probes.ts, the judgement in verdicts.ts.
// Nothing secret is put in a detail, and a last pass scrubs any secret that slipped in anyway.
import {randomUUID} from 'node:crypto'
import type {Context, EffectiveSettings} from '../../context.js'
import {BflyError} from '../../errors.js'
import type {ProfileStore} from '../../settings.js'
import type {OAuthHttp} from '../../auth/oauth-http.js'
import type {HttpAnswer, HttpGetter} from './probes.js'
import {runSteps, type Step} from './runner.js'
import {
  apiUrlVerdict,
  type CaFacts,
  caVerdict,
  type Check,
  circuitVerdict,
  clockVerdict,
  CREDENTIAL_LABEL,
  type CredentialSource,
  credentialVerdict,
  httpVerdict,
  jwtExpiry,
  keychainVerdict,
  nodeVerdict,
  ORIGIN,
  type Origin,
  profileVerdict,
  rateLimitVerdict,
  redactProxy,
  scrub,
  shownUrl,
  tlsVerdict,
  tokenVerdict,
  trustedLabel,
  type Verdict,
} from './verdicts.js'

export interface DoctorOptions {
  /** Bound of each network step. */
  timeoutMs: number
  /** Unauthenticated GETs whose latency is summarised. */
  samples: number
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
const hint = (error: unknown) => (error instanceof BflyError ? error.hint : undefined)

/** Verdicts about OAuth matter only to logins: with a static token or key they are warnings. */
function optionalWith(staticCredential: string | undefined, verdict: Verdict): Verdict {
  if (verdict.status !== 'fail' || !staticCredential) return verdict
  return {...verdict, status: 'warn', detail: `${verdict.detail} (${staticCredential} needs no OAuth)`}
}

/** The environment variable proxyFor took the proxy from (same order). */
function proxyVariable(url: URL, env: NodeJS.ProcessEnv): string {
  const names = url.protocol === 'https:' ? ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] : ['HTTP_PROXY', 'http_proxy']
  return names.find((n) => env[n] !== undefined && env[n] !== '') ?? names[0]
}

/** Everything secret doctor could come across, so the last pass can scrub it. */
function knownSecrets(env: NodeJS.ProcessEnv, urls: (string | undefined)[]): string[] {
  const secrets = [env.BFLY_TOKEN, env.BUTTERFLY_API_KEY, env.BFLY_CLIENT_SECRET].map((s) => s?.trim())
  for (const raw of [...urls, env.HTTPS_PROXY, env.https_proxy, env.HTTP_PROXY, env.http_proxy]) {
    if (!raw) continue
    try {
      const password = new URL(raw).password
      if (password) secrets.push(password, decodeURIComponent(password))
    } catch {
      // Not a URL: nothing to take apart (and the proxy check says so without printing it).
    }
  }
  return secrets.filter((s): s is string => Boolean(s))
}

const countCertificates = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length

export async function runDoctor(ctx: Context, options: DoctorOptions): Promise<Check[]> {
  const settled = await ctx.settings().then((settings) => ({settings}), (error: unknown) => ({error}))
  const settings: EffectiveSettings | undefined = 'settings' in settled ? settled.settings : undefined
  const store: ProfileStore | undefined = settings ? await ctx.store() : undefined
  const origin = (key: string): Origin => settings?.origins[key]?.origin ?? 'default'
  const api = settings?.apiUrl ? new URL(settings.apiUrl) : undefined
  const issuerSetting = settings?.issuer && origin('issuer') !== 'default' ? settings.issuer : undefined
  const staticCredential = ctx.env.BFLY_TOKEN ? 'BFLY_TOKEN' : ctx.env.BUTTERFLY_API_KEY ? 'BUTTERFLY_API_KEY' : undefined
  const secrets = knownSecrets(ctx.env, [settings?.apiUrl, settings?.issuer])
  const {timeoutMs} = options

  // Facts one step finds and later ones read; local to this run.
  let proxy: URL | undefined
  let trusted: {label: string; cas?: string[]} = {label: "Node's bundled roots"}
  let tlsFailed = false
  let answers: HttpAnswer[] | undefined
  let issuer: string | undefined
  let source: CredentialSource | undefined
  let authAnswer: HttpAnswer | undefined
  let getter: Promise<HttpGetter> | undefined
  let oauthHttp: Promise<OAuthHttp> | undefined

  const http = () => {
    getter ??= import('./probes.js').then(async ({httpGetter}) => {
      const made = await httpGetter({
        timeoutMs,
        userAgent: `bfly/${ctx.version} (${process.platform}; node/${process.versions.node})`,
        proxy: proxy?.href,
        ca: trusted.cas,
        now: ctx.now,
      })
      return {
        async get(url, headers, signal) {
          const requestId = `req-${randomUUID()}`
          ctx.trace(`→ GET ${url.origin}${url.pathname} ${requestId}`)
          const answer = await made.get(url, {'x-request-id': requestId, 'x-correlation-id': ctx.correlationId, ...headers}, signal)
          ctx.trace(`← ${answer.status} in ${answer.ms.toFixed(1)} ms`)
          return answer
        },
      }
    })
    return getter
  }
  const oauth = () => {
    oauthHttp ??= import('../../auth/oauth-http.js').then(({OAuthHttp}) => OAuthHttp.create(ctx))
    return oauthHttp
  }
  const networkFailure = async (error: unknown, target: string) => {
    if (error instanceof BflyError) return error
    const {networkErrorFrom} = await import('../../api/network.js')
    const cause = (error as {cause?: {code?: string; message?: string}}).cause
    const code = (error as {code?: string}).code
    return networkErrorFrom({code: code === 'ERR_GOT_REQUEST_ERROR' ? cause?.code : code ?? cause?.code, message: cause?.message ?? message(error)}, target, error instanceof Error && error.name === 'TimeoutError' ? timeoutMs : undefined, proxy?.href)
  }

  const noSettings = 'the settings could not be read'
  const steps: Step[] = [
    {name: 'bfly', boundMs: 0, run: async () => ({status: 'pass', detail: `${ctx.version} (${process.platform}-${process.arch})`})},
    {name: 'node', boundMs: 0, run: async () => nodeVerdict(process.version, `${process.platform}-${process.arch}`)},
    {
      name: 'config',
      run: async () => {
        if (!settings) return {status: 'fail', detail: message((settled as {error: unknown}).error), remedy: hint((settled as {error: unknown}).error) ?? 'fix the config file, or the flag or environment variable named'}
        const {existsSync} = await import('node:fs')
        return {status: 'pass', detail: existsSync(store!.path) ? store!.path : `${store!.path} (not created yet: defaults, flags and environment only)`}
      },
    },
    {
      name: 'profile',
      boundMs: 0,
      run: async () => {
        const known = store ? store.names().filter((n) => Object.keys(store.settings(n)).length > 0 || store.session(n)) : []
        return store ? profileVerdict(ctx.profile, ctx.profileOrigin, known) : {status: 'pass', detail: `${ctx.profile} (${ORIGIN[ctx.profileOrigin]})`}
      },
    },
    {
      name: 'api-url',
      needs: {config: noSettings},
      boundMs: 0,
      run: async () => {
        const {isLoopbackHost} = await import('../../api/network.js')
        return apiUrlVerdict(settings!.apiUrl, origin('api-url'), api ? isLoopbackHost(api.hostname) : false)
      },
    },
    issuerSetting
      ? {name: 'issuer', boundMs: 0, run: async () => ((issuer = issuerSetting), {status: 'pass', detail: `${shownUrl(issuerSetting)} (${ORIGIN[origin('issuer')]})`})}
      : {
          name: 'issuer',
          needs: {'api-url': 'no API URL to discover it from, and none configured', http: 'the API does not answer, so its issuer cannot be discovered'},
          run: async () => {
            const {chooseIssuer} = await import('../../auth/discovery.js')
            const choice = await chooseIssuer(ctx, await oauth())
            issuer = choice.issuer
            return {status: 'pass', detail: `${shownUrl(choice.issuer)} (${ORIGIN[choice.origin]})`}
          },
          awaiting: () => `${shownUrl(api!.href.replace(/\/+$/, ''))}/.well-known/oauth-protected-resource`,
          settle: (verdict) => optionalWith(staticCredential, verdict),
        },
    {
      name: 'proxy',
      needs: {'api-url': 'no API URL'},
      boundMs: 0,
      run: async () => {
        const {proxyFor} = await import('../../api/network.js')
        const raw = proxyFor(api!, ctx.env)
        const variable = proxyVariable(api!, ctx.env)
        if (!raw) {
          const exempt = (ctx.env.NO_PROXY || ctx.env.no_proxy) && (ctx.env.HTTPS_PROXY || ctx.env.https_proxy || ctx.env.HTTP_PROXY || ctx.env.http_proxy)
          return {status: 'pass', detail: exempt ? `none for ${api!.hostname} (direct: NO_PROXY exempts it)` : 'none (direct)'}
        }
        try {
          proxy = new URL(raw)
        } catch {
          return {status: 'fail', detail: `${variable} is not a URL`, remedy: `set ${variable} to http://host:port (or http://user:password@host:port)`}
        }
        if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
          return {status: 'fail', detail: `${variable} is a ${proxy.protocol} URL; only http:// and https:// proxies are supported`, remedy: `set ${variable} to http://host:port`}
        }
        return {status: 'pass', detail: `${redactProxy(raw)} (from ${variable})`}
      },
    },
    {
      name: 'ca',
      needs: {config: noSettings},
      run: async () => {
        const {readFile} = await import('node:fs/promises')
        const facts: CaFacts = {}
        let extra: string | undefined
        if (settings!.caFile) {
          const path = settings!.caFile
          try {
            extra = await readFile(path, 'utf8')
            facts.caFile = {path, origin: origin('ca-file'), certificates: countCertificates(extra)}
          } catch (error) {
            facts.caFile = {path, origin: origin('ca-file'), error: (error as NodeJS.ErrnoException).code ?? message(error)}
          }
        }
        const nodeExtra = ctx.env.NODE_EXTRA_CA_CERTS
        if (nodeExtra) {
          facts.nodeExtra = await readFile(nodeExtra, 'utf8').then(
            (pem) => ({path: nodeExtra, certificates: countCertificates(pem)}),
            (error: NodeJS.ErrnoException) => ({path: nodeExtra, error: error.code ?? error.message}),
          )
        }
        const verdict = caVerdict(facts)
        if (verdict.status !== 'fail') {
          const {withDefaultCas} = await import('../../api/network.js')
          trusted = {label: trustedLabel(facts), cas: extra ? withDefaultCas(extra) : undefined}
        }
        return verdict
      },
    },
    {
      name: 'dns',
      needs: {proxy: 'the proxy setting is unusable'},
      run: async (signal) => {
        const target = proxy ?? api!
        const host = target.hostname.replace(/^\[|\]$/g, '')
        const via = proxy ? ' (the proxy)' : ''
        const net = await import('node:net')
        if (net.isIP(host)) return {status: 'pass', detail: `${host}${via} is an IP address`}
        const {resolveHost} = await import('./probes.js')
        try {
          const found = await resolveHost(host, signal)
          return {status: 'pass', detail: `${host}${via} → ${found.addresses.join(', ')} (${Math.round(found.ms)} ms)`}
        } catch (error) {
          return {status: 'fail', detail: `cannot resolve ${host}${via}: ${message(error)}`, remedy: proxy ? 'check the host name in the proxy variable' : 'check the host name in the API URL, the DNS resolver, or a VPN that must be up'}
        }
      },
    },
    {
      name: 'tcp',
      needs: {dns: 'the host name does not resolve'},
      run: async (signal) => {
        const target = proxy ?? api!
        const host = target.hostname.replace(/^\[|\]$/g, '')
        const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80))
        const via = proxy ? ' (the proxy)' : ''
        const {connectTcp} = await import('./probes.js')
        try {
          const ms = await connectTcp(host, port, signal)
          return {status: 'pass', detail: `connected to ${host}:${port}${via} in ${Math.round(ms)} ms`}
        } catch (error) {
          return {
            status: 'fail',
            detail: `cannot connect to ${host}:${port}${via}: ${message(error)}`,
            remedy: proxy ? 'check HTTPS_PROXY / HTTP_PROXY: the proxy does not answer' : 'is the service up and the URL right? a firewall or VPN may be in the way',
          }
        }
      },
    },
    {
      name: 'tls',
      needs: {tcp: 'no connection', ca: 'the CAs to trust cannot be read'},
      run: async (signal) => {
        if (api!.protocol !== 'https:') return {status: 'skip', detail: 'plain http: no TLS (bfly sends credentials over plain http to loopback only)'}
        if (proxy?.protocol === 'https:') return {status: 'skip', detail: 'through an https:// proxy the certificate is not inspected; the http check covers the tunnel'}
        const {inspectTls, tunnel} = await import('./probes.js')
        const port = Number(api!.port || 443)
        let socket
        if (proxy) {
          try {
            socket = await tunnel(proxy, `${api!.hostname}:${port}`, signal)
          } catch (error) {
            const refused = /HTTP (\d{3})/.exec(message(error))?.[1]
            return {
              status: 'fail',
              detail: `${redactProxy(proxy.href)}: ${message(error)}`,
              remedy: refused === '407' ? 'check the user and password in HTTPS_PROXY / HTTP_PROXY' : 'check HTTPS_PROXY / HTTP_PROXY, or exempt this host with NO_PROXY',
            }
          }
        }
        const facts = await inspectTls({host: api!.hostname, port, ca: trusted.cas, socket}, signal)
        return tlsVerdict(proxy ? {...facts, viaProxy: redactProxy(proxy.href)} : facts, trusted.label, ctx.now())
      },
      // However it failed (the certificate, the tunnel, no answer), requests would fail the same way.
      settle: (verdict) => ((tlsFailed = verdict.status === 'fail'), verdict),
    },
    {
      name: 'http',
      needs: {tcp: 'no connection', ca: 'the CAs to trust cannot be read'},
      after: ['tls'],
      boundMs: timeoutMs + 1000,
      run: async (signal) => {
        if (tlsFailed) return {status: 'skip', detail: 'the TLS check failed: requests fail the same way'}
        const target = new URL('.well-known/oauth-protected-resource', `${api!.href.replace(/\/+$/, '')}/`)
        const {sample} = await import('./probes.js')
        try {
          answers = await sample(await http(), target, {count: options.samples, budgetMs: timeoutMs}, signal)
        } catch (error) {
          const failure = await networkFailure(error, api!.host)
          return {status: 'fail', detail: `GET ${target.pathname}: ${failure.message}`, remedy: failure.hint ?? 'check the API URL and that the service is up'}
        }
        return httpVerdict({statuses: answers.map((a) => a.status), latenciesMs: answers.map((a) => a.ms), through: proxy ? 'the proxy' : undefined})
      },
    },
    {
      name: 'clock',
      after: ['http'],
      boundMs: 0,
      run: async () => {
        const last = answers?.at(-1)
        if (!last) return {status: 'skip', detail: 'no answer from the server'}
        const date = last.headers.date
        return clockVerdict(Array.isArray(date) ? date[0] : date, last.at)
      },
    },
    {
      name: 'oauth',
      needs: {issuer: 'no issuer'},
      run: async () => {
        if (!issuer) return {status: 'skip', detail: 'no issuer was found'}
        const {fetchMetadata} = await import('../../auth/discovery.js')
        const metadata = await fetchMetadata(await oauth(), issuer!)
        const offers = [
          metadata.authorization_endpoint ? 'browser login' : undefined,
          metadata.device_authorization_endpoint ? 'device code' : undefined,
          metadata.revocation_endpoint ? 'revocation' : undefined,
        ].filter(Boolean)
        return {status: 'pass', detail: `${metadata.oidc ? 'OpenID' : 'RFC 8414'} metadata of ${shownUrl(metadata.issuer)}; offers ${offers.join(', ') || 'the token endpoint only'}`}
      },
      awaiting: () => `the issuer ${shownUrl(issuer!)}`,
      settle: (verdict) => optionalWith(staticCredential, verdict),
    },
    {
      name: 'credentials',
      needs: {config: noSettings},
      after: ['http'],
      run: async (signal) => {
        let credentials
        try {
          credentials = await ctx.credentials()
        } catch (error) {
          if (/not logged in/.test(message(error))) {
            return {status: 'warn', detail: 'not logged in', remedy: 'run `bfly login` (or set BFLY_TOKEN / BUTTERFLY_API_KEY, or BFLY_CLIENT_ID + BFLY_CLIENT_SECRET in CI)'}
          }
          return {status: 'fail', detail: message(error), remedy: hint(error)}
        }
        source = credentials.source
        const label = CREDENTIAL_LABEL[source]
        if (!api) return {status: 'skip', detail: `${label}: no API URL to try it against`}
        if (!answers) return {status: 'skip', detail: `${label}: not tried, the API does not answer`}
        const {credentialsAllowed} = await import('../../api/network.js')
        if (!credentialsAllowed(api)) return {status: 'fail', detail: `${label}: never sent over plain http to ${api.host}`, remedy: 'use the https:// URL of the API'}
        const target = new URL('api/v1/capsules?size=1', `${api.href.replace(/\/+$/, '')}/`)
        const send = async () => {
          const headers = await credentials.headers()
          for (const value of Object.values(headers)) secrets.push(value, value.replace(/^(Bearer|Basic|DPoP)\s+/i, ''))
          return (await http()).get(target, headers, signal)
        }
        try {
          authAnswer = await send()
          // An access token may die early (revoked, rotated keys): one refresh and one more try, as the client does.
          if (authAnswer.status === 401 && credentials.refresh && (await credentials.refresh())) authAnswer = await send()
        } catch (error) {
          const failure = await networkFailure(error, api.host)
          return {status: 'fail', detail: `${label}: ${failure.message}`, remedy: failure.hint ?? 'run `bfly login` again'}
        }
        const www = authAnswer.headers['www-authenticate']
        const verdict = credentialVerdict(source, authAnswer.status, Array.isArray(www) ? www[0] : www)
        const requestId = authAnswer.headers['x-request-id']
        return verdict.status === 'pass' || !requestId ? verdict : {...verdict, detail: `${verdict.detail} (request ${String(requestId)})`}
      },
      awaiting: () => (source && api ? api.host : 'the credential store'),
    },
    {
      name: 'token',
      after: ['credentials'],
      boundMs: 0,
      run: async () => {
        if (!source) return {status: 'skip', detail: 'no credentials'}
        if (source === 'env') {
          const expiresAt = jwtExpiry(ctx.env.BFLY_TOKEN!.trim())
          return expiresAt ? tokenVerdict(expiresAt, ctx.now(), {refreshable: false, label: 'BFLY_TOKEN'}) : {status: 'skip', detail: 'BFLY_TOKEN is not a JWT: its lifetime is known to the issuer only'}
        }
        if (source === 'api-key') return {status: 'skip', detail: 'an API key carries no expiry'}
        if (source === 'client-credentials') return {status: 'skip', detail: 'client credentials: a new token for each run'}
        return tokenVerdict(store?.session(ctx.profile)?.expiresAt, ctx.now())
      },
    },
    {
      name: 'rate-limit',
      after: ['credentials'],
      boundMs: 0,
      run: async () => {
        const answer = authAnswer ?? answers?.at(-1)
        if (!answer) return {status: 'skip', detail: 'no answer from the API'}
        return rateLimitVerdict(answer.headers, ctx.now(), !authAnswer)
      },
    },
    {
      name: 'keychain',
      // The keychain call has its own bound (a killed helper process says so); this one is a backstop.
      boundMs: timeoutMs + 1000,
      run: async () => {
        if ((ctx.env.BFLY_KEYCHAIN ?? '').toLowerCase() === 'off') {
          return {status: 'skip', detail: 'off (BFLY_KEYCHAIN=off): logins are kept in a file readable only by you'}
        }
        const {Keychain, KEYCHAIN_TIMEOUT_MS} = await import('../../auth/keychain.js')
        const started = performance.now()
        try {
          await new Keychain({env: ctx.env, timeoutMs: Math.min(KEYCHAIN_TIMEOUT_MS, timeoutMs)}).get('bfly:doctor')
          return keychainVerdict({ok: true, ms: performance.now() - started})
        } catch (error) {
          return keychainVerdict({ok: false, reason: message(error)})
        }
      },
    },
    {
      name: 'circuits',
      needs: {config: noSettings},
      run: async () => {
        const {circuitStatus} = await import('../circuit/circuit.js')
        return circuitVerdict(await circuitStatus(ctx), api?.host, ctx.now())
      },
    },
  ]

  const checks = await runSteps(steps, {boundMs: timeoutMs, signal: ctx.signal, remedyOf: hint})
  return scrub(checks, secrets)
}

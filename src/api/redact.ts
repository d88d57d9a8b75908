// What --verbose may show. Tokens, keys, cookies and OAuth secrets never reach the trace.

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie'])
const SECRET_FIELDS = ['access_token', 'refresh_token', 'id_token', 'client_secret', 'token', 'password', 'secret', 'code', 'code_verifier', 'device_code', 'api_key', 'apiKey']
const REDACTED = '[REDACTED]'

export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    if (SECRET_HEADERS.has(name.toLowerCase())) {
      const text = String(value)
      const scheme = /^(Bearer|Basic|DPoP)\s/i.exec(text)?.[1]
      out[name] = scheme ? `${scheme} ${REDACTED}` : REDACTED
    } else out[name] = value
  }
  return out
}

export function redactUrl(input: string | URL): string {
  let url: URL
  try {
    url = new URL(String(input))
  } catch {
    return String(input)
  }
  if (url.username || url.password) {
    url.username = url.username ? 'REDACTED' : ''
    url.password = ''
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_FIELDS.includes(key)) url.searchParams.set(key, REDACTED)
  }
  return url.toString().replace(/%5BREDACTED%5D/g, REDACTED)
}

/** Redacts secret fields in a JSON or form-encoded body; other text passes unchanged. */
export function redactBody(body: string): string {
  const trimmed = body.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(trimmed), (key, value) => (SECRET_FIELDS.includes(key) && typeof value === 'string' ? REDACTED : value))
    } catch {
      // fall through: a truncated JSON body is redacted by pattern below
    }
  }
  let out = body
  for (const field of SECRET_FIELDS) {
    out = out
      .replace(new RegExp(`("${field}"\\s*:\\s*")[^"]*`, 'g'), `$1${REDACTED}`)
      .replace(new RegExp(`(^|&)(${field}=)[^&]*`, 'g'), `$1$2${REDACTED}`)
  }
  return out.replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, `Bearer ${REDACTED}`)
}

// Transport failures by kind, named the way the report names them. The mapping from low-level
// codes is the one every HTTP path of the project uses (networkErrorFrom); cached per code
// because a refusing server produces thousands of identical errors a second.
import {networkErrorFrom} from '../api/network.js'

export type TransportErrorKind = 'timeout' | 'reset' | 'refused' | 'tls' | 'other'

const BY_CODE: Record<string, TransportErrorKind> = {
  TIMEOUT: 'timeout',
  CONNECTION_RESET: 'reset',
  CONNECTION_REFUSED: 'refused',
  TLS_ERROR: 'tls',
}

export class ErrorClassifier {
  private readonly cache = new Map<string, TransportErrorKind>()

  kindOf(error: {code?: string; message?: string; cause?: unknown}): TransportErrorKind {
    // undici wraps socket failures; the cause carries the system code (ECONNRESET, …).
    const code = error.code ?? ''
    const cached = this.cache.get(code)
    if (cached !== undefined) return cached
    let kind = BY_CODE[networkErrorFrom({code, message: error.message ?? ''}, '').code] ?? 'other'
    const cause = error.cause as {code?: string} | undefined
    if (kind === 'other' && cause?.code) kind = BY_CODE[networkErrorFrom({code: cause.code, message: ''}, '').code] ?? 'other'
    // Codes alone decide, except for wrapped errors whose cause may differ between occurrences.
    if (cause === undefined) this.cache.set(code, kind)
    return kind
  }
}

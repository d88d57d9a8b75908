// Shared flag builders, so every command spells the same thing the same way.
import {Flags} from './vendor/oclif.js'
import {parseDuration} from './values.js'

const GLOBAL = 'GLOBAL'
const STALE_IF_ERROR_DEFAULT = '15m'
const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)?$/

/** Global flags of every API command (cli-spec). */
export const globalFlags = {
  profile: Flags.string({description: 'profile to use (default: $BFLY_PROFILE or "default")', helpGroup: GLOBAL}),
  'api-url': Flags.string({description: 'BUTTERFLY API base URL (default: $BFLY_API_URL or the profile)', helpGroup: GLOBAL}),
  json: Flags.boolean({description: 'print exactly one JSON document on stdout', helpGroup: GLOBAL}),
  verbose: Flags.boolean({description: 'redacted HTTP trace on stderr', helpGroup: GLOBAL}),
  timeout: Flags.string({description: 'whole-request timeout, e.g. 10s (default: connect 10s, response 30s)', helpGroup: GLOBAL}),
  retries: Flags.integer({description: 'retries of a failed request (default 3; 0 disables)', min: 0, max: 10, helpGroup: GLOBAL}),
  'correlation-id': Flags.string({description: 'X-Correlation-ID shared by all requests of this invocation', helpGroup: GLOBAL}),
  'no-color': Flags.boolean({description: 'no ANSI colours (also $NO_COLOR)', helpGroup: GLOBAL}),
  'ca-file': Flags.string({description: 'PEM file of extra certificate authorities, trusted besides the system ones (also the ca-file setting; NODE_EXTRA_CA_CERTS works too)', helpGroup: GLOBAL}),
  'max-age': Flags.string({
    description: 'GET requests: accept a cached answer up to this old without asking the API, e.g. 5m (default: only what the API says is still fresh)',
    helpGroup: GLOBAL,
    parse: async (value) => {
      parseDuration(value, '--max-age')
      return value
    },
  }),
  'stale-if-error': Flags.string({
    description: `GET requests: when the API is unreachable, fails with 5xx or the circuit is open, answer from the cache if no older than this (alone: ${STALE_IF_ERROR_DEFAULT}), with a warning on stderr`,
    helpGroup: GLOBAL,
    parse: async (value) => {
      parseDuration(value, '--stale-if-error')
      return value
    },
  }),
}

/**
 * Flags whose value may be left out: `--stale-if-error` alone means 15m. oclif has no
 * optional flag values, so argv is completed before parsing. A following word is taken as
 * the value only when it reads as a duration (`--stale-if-error 5m`); `--x=5m` is always safe.
 */
export const OPTIONAL_VALUE_FLAGS: Record<string, string> = {'stale-if-error': STALE_IF_ERROR_DEFAULT}

export function withOptionalValues(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (token === '--') {
      out.push(...argv.slice(i))
      break
    }
    const name = token.startsWith('--') ? token.slice(2) : undefined
    if (name !== undefined && name in OPTIONAL_VALUE_FLAGS) {
      const next = argv[i + 1]
      if (next !== undefined && DURATION.test(next)) {
        out.push(`${token}=${next}`)
        i++
      } else out.push(`${token}=${OPTIONAL_VALUE_FLAGS[name]}`)
      continue
    }
    out.push(token)
  }
  return out
}

/** Output flags of list commands. */
export const listOutputFlags = {
  ndjson: Flags.boolean({description: 'one JSON object per line, streamed', exclusive: ['json'], helpGroup: 'OUTPUT'}),
  columns: Flags.string({description: 'columns to show, comma separated (e.g. id,scopeId)', helpGroup: 'OUTPUT'}),
}

export const yesFlag = Flags.boolean({char: 'y', description: 'do not ask for confirmation (required when not on a terminal)'})

/** Paging of list commands (contract §2: 0-based offset pages of 1-100 items). Validated by parseListQuery. */
export const pageFlags = {
  page: Flags.string({description: 'first page to fetch, 0-based (alone: just that page; with --all or --limit: where the walk starts)', helpGroup: 'PAGING'}),
  size: Flags.string({description: 'items per page, 1-100 (default: the server\'s 20 for one page, 100 when walking)', helpGroup: 'PAGING'}),
  all: Flags.boolean({description: 'walk every page to the end, streaming items as they come', helpGroup: 'PAGING'}),
  limit: Flags.string({description: 'stop after this many items (walks pages as needed)', helpGroup: 'PAGING'}),
  sort: Flags.string({description: 'sort order as field,asc|desc (e.g. timestamp,desc)', helpGroup: 'PAGING'}),
}

/** A time range: RFC 3339 or a duration meaning that long ago; from inclusive, to exclusive. */
export const timeRangeFlags = {
  from: Flags.string({description: 'from this time, inclusive: RFC 3339 (2025-12-03T10:00:00Z) or that long ago (30m, 2h, 7d)'}),
  to: Flags.string({description: 'until this time, exclusive: RFC 3339 or that long ago'}),
}

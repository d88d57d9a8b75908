// Shared flag builders, so every command spells the same thing the same way.
import {Flags} from '@oclif/core'

const GLOBAL = 'GLOBAL'

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

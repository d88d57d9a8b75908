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

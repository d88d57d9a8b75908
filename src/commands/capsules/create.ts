import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {capsuleFields} from '../../services/capsules/columns.js'
import {createCapsule} from '../../services/capsules/create.js'

export default class CapsulesCreate extends BflyCommand<typeof CapsulesCreate> {
  static summary = 'Create a capsule'
  static description = `The payload is a JSON object: inline, @file, or - for stdin; it is checked before anything is sent.
Every create carries an Idempotency-Key (generated unless --idempotency-key is given), so a retried request never creates twice; when the server answers with the result of an earlier create, stderr says so.`
  static examples = [
    `<%= config.bin %> capsules create --scope-id rim:entity:finance:EURUSD --timestamp 2025-12-03T10:00:00Z --payload '{"price":1.0842}'`,
    '<%= config.bin %> capsules create --scope-id rim:entity:finance:EURUSD --timestamp now --payload @capsule.json --json',
    'jq -c .payload in.json | <%= config.bin %> capsules create --scope-id rim:entity:finance:EURUSD --timestamp 5m --payload -',
  ]
  static flags = {
    'scope-id': Flags.string({description: 'the entity, rim:{nodeType}:{namespace}:{localId}', required: true}),
    timestamp: Flags.string({description: 'RFC 3339, `now`, or a duration ago (5m)', required: true}),
    payload: Flags.string({description: 'JSON object: inline, @file, or - (stdin)', required: true}),
    resolution: Flags.string({description: 'resolution in seconds (server default 60)'}),
    'idempotency-key': Flags.string({description: 'reuse a key to retry a create safely (default: a new random key)'}),
  }

  async execute(): Promise<CommandResult> {
    const created = await createCapsule(this.ctx, {
      scopeId: this.flags['scope-id'],
      timestamp: this.flags.timestamp,
      payload: this.flags.payload,
      resolution: this.flags.resolution,
      idempotencyKey: this.flags['idempotency-key'],
    })
    if (created.replayed) {
      this.ctx.warn(`replayed: the server answered with the result of an earlier create with Idempotency-Key ${created.idempotencyKey}; nothing new was created`)
    }
    return object(created.capsule, {fields: capsuleFields})
  }
}

import {BflyCommand} from '../../base-command.js'
import {text, type CommandResult} from '../../output/result.js'
import {type CompletionCommand, fishScript} from '../../services/completion/fish.js'

export default class AutocompleteFish extends BflyCommand<typeof AutocompleteFish> {
  static summary = 'Print the fish completion script'
  static description = 'Commands, topics and flags come from the installed bfly, so regenerate the file after an upgrade. For bash, zsh and PowerShell use `bfly autocomplete bash|zsh|powershell`.'
  static examples = [
    '<%= config.bin %> autocomplete fish > ~/.config/fish/completions/bfly.fish',
  ]

  async execute(): Promise<CommandResult> {
    const topics = Object.fromEntries(this.config.topics.map((t) => [t.name, t.description]))
    const script = fishScript(this.config.bin, this.config.commands as unknown as CompletionCommand[], topics)
    if (this.ctx.io.stdoutIsTTY) this.ctx.io.err(`Save it where fish looks for completions:\n  ${this.config.bin} autocomplete fish > ~/.config/fish/completions/${this.config.bin}.fish`)
    return text(script.trimEnd(), {shell: 'fish', script})
  }
}

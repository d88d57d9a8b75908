// A fish completion script from the command manifest: topics, commands, their flags (with
// descriptions, and the fixed choices of an option), generated, never written by hand.
// (@oclif/plugin-autocomplete covers bash, zsh and PowerShell; fish is done here the same way.)

export interface CompletionCommand {
  id: string
  summary?: string
  description?: string
  hidden?: boolean
  flags: Record<string, {name: string; char?: string; summary?: string; description?: string; type: 'boolean' | 'option'; options?: readonly string[]; hidden?: boolean}>
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const firstLineOf = (s?: string) => (s ?? '').split('\n')[0].trim()

export function fishScript(bin: string, commands: CompletionCommand[], topics: Record<string, string | undefined>): string {
  // Plugin help texts may carry oclif's template for the binary name.
  const firstLine = (s?: string) => firstLineOf(s).replace(/<%[=-]\s*config\.bin\s*%>/g, bin)
  const visible = commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  const lines = [
    `# fish completion for ${bin}; regenerate with \`${bin} autocomplete fish\` after an upgrade.`,
    `complete -c ${bin} -f`,
  ]
  // Level one: top-level commands and topics.
  const first = new Map<string, string>()
  for (const c of visible) {
    const [head, ...rest] = c.id.split(':')
    if (rest.length === 0) first.set(head, firstLine(c.summary ?? c.description))
    else if (!first.has(head)) first.set(head, firstLine(topics[head]))
  }
  for (const [name, desc] of first) lines.push(`complete -c ${bin} -n __fish_use_subcommand -a ${quote(name)} -d ${quote(desc)}`)
  // Level two: commands of a topic, offered until one of them is on the line.
  const byTopic = new Map<string, CompletionCommand[]>()
  for (const c of visible) {
    const parts = c.id.split(':')
    if (parts.length === 2) byTopic.set(parts[0], [...(byTopic.get(parts[0]) ?? []), c])
  }
  for (const [topic, children] of byTopic) {
    const names = children.map((c) => c.id.split(':')[1])
    for (const c of children) {
      lines.push(`complete -c ${bin} -n ${quote(`__fish_seen_subcommand_from ${topic}; and not __fish_seen_subcommand_from ${names.join(' ')}`)} -a ${quote(c.id.split(':')[1])} -d ${quote(firstLine(c.summary ?? c.description))}`)
    }
  }
  // Flags of each command, once the command is on the line.
  for (const c of visible) {
    const words = c.id.split(':')
    const when = words.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and ')
    for (const flag of Object.values(c.flags)) {
      if (flag.hidden) continue
      let line = `complete -c ${bin} -n ${quote(when)} -l ${flag.name}`
      if (flag.char) line += ` -s ${flag.char}`
      if (flag.type === 'option') line += flag.options?.length ? ` -x -a ${quote(flag.options.join(' '))}` : ' -r'
      lines.push(`${line} -d ${quote(firstLine(flag.summary ?? flag.description))}`)
    }
  }
  return lines.join('\n') + '\n'
}

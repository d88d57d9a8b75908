// How doctor's checks are shown: the --json document, and for people an aligned list with
// one mark per check, the remedy under each check that needs one, and a one-line tally.
import type {Check, CheckStatus} from './verdicts.js'

export interface DoctorJson {
  checks: {name: string; status: CheckStatus; detail: string; remedy: string | null}[]
}

export function toJson(checks: Check[]): DoctorJson {
  return {checks: checks.map(({name, status, detail, remedy}) => ({name, status, detail, remedy: remedy ?? null}))}
}

type Style = 'red' | 'green' | 'yellow' | 'dim'

/** Marks on a colour terminal; plain ASCII words elsewhere, so a pasted report or a grep needs no decoding. */
const MARKS: Record<CheckStatus, {symbol: string; word: string; style: Style}> = {
  pass: {symbol: '✓', word: 'pass', style: 'green'},
  warn: {symbol: '!', word: 'warn', style: 'yellow'},
  fail: {symbol: '✗', word: 'FAIL', style: 'red'},
  skip: {symbol: '-', word: 'skip', style: 'dim'},
}

export function tally(checks: Check[]): string {
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`
  return [
    plural(count('fail'), 'failure', 'failures'),
    plural(count('warn'), 'warning', 'warnings'),
    `${count('pass')} passed`,
    `${count('skip')} skipped`,
  ].join(', ')
}

export function renderHuman(checks: Check[], options: {color: boolean; paint: (text: string, style: Style) => string; footer?: string}): string {
  const width = Math.max(...checks.map((c) => c.name.length))
  const markWidth = options.color ? 1 : 4
  const lines: string[] = []
  for (const c of checks) {
    const mark = MARKS[c.status]
    lines.push(`${options.paint(options.color ? mark.symbol : mark.word, mark.style)}  ${c.name.padEnd(width)}  ${c.detail}`)
    if (c.remedy && (c.status === 'fail' || c.status === 'warn')) lines.push(`${' '.repeat(markWidth + 2 + width + 2)}${options.paint(`${options.color ? '→' : '->'} ${c.remedy}`, 'dim')}`)
  }
  lines.push('', `${tally(checks)}${options.footer ? ` ${options.footer}` : ''}`)
  return lines.join('\n')
}

// "did you mean": the closest known word by edit distance, for mistyped commands and flags.
// (@oclif/plugin-not-found asks an interactive question instead, which breaks scripts.)

function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]
}

/** The candidate closest to input, if it is close enough to be a plausible typo. */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  let best: {id: string; d: number} | undefined
  for (const id of candidates) {
    const d = distance(input, id)
    if (!best || d < best.d) best = {id, d}
  }
  return best && best.d <= Math.max(2, Math.floor(input.length / 3)) ? best.id : undefined
}

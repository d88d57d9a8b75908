// Deterministic pseudo-random numbers: the same seed gives the same data, the same chaos
// sequence and the same simulated drift on every run, so a failing test can be replayed.

export type Random = () => number

/** mulberry32: tiny, fast, and good enough for test data (not for secrets). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a over a label, mixed with the seed: independent streams per purpose. */
export function deriveSeed(seed: number, label: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** One stable value in [0, 1) for (seed, label): for drift that must not depend on call order. */
export function stableUnit(seed: number, label: string): number {
  return createRandom(deriveSeed(seed, label))()
}

/** Standard normal sample (Box-Muller). */
export function normal(random: Random, mean: number, stddev: number): number {
  const u = 1 - random()
  const v = random()
  return mean + stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** `length` Crockford base-32 characters, the alphabet of ULID-like ids (cap_01JD9Z8K2M). */
export function base32(random: Random, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += CROCKFORD[Math.floor(random() * 32)]
  return out
}

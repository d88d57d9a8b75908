// The de-duplication window of a walk: the last `max` ids first seen, O(1) per item, in
// typed arrays allocated once. What is kept of an id is a 64-bit hash, not the string.
//
// Why: kept as strings (a Set plus a ring, the first version), the ids of the window are the
// main thing a walk keeps alive long enough for the garbage collector to promote it: ~60% of
// what survived each young-generation collection on a 100,000-item walk, plus the hash tables
// a Set that keeps deleting throws away as it compacts. V8 grows the young generation in step
// with what survives, so RSS grew with the length of the walk (16 MB of new space at 100,000
// items, 64 MB at 1,000,000). Hashes in typed arrays survive nothing.
// The price: two different ids are taken for one only when their 64-bit hashes collide within
// the window, about 10,000 / 2^64 ≈ 5e-16 per item; the window itself is the real limit, as
// before (a shift of more than `max` items between two pages lets a duplicate through).

/**
 * Ids as the table keys them: strings as they are, numbers, bigints and booleans tagged so
 * that 1 and "1" stay apart. Anything else (objects, null) cannot repeat across pages parsed
 * separately, so it is not an id to remember.
 */
function keyOf(id: unknown): string | undefined {
  switch (typeof id) {
    case 'string':
      return id
    case 'number':
    case 'bigint':
    case 'boolean':
      return `\u0000${typeof id}:${String(id)}`
    default:
      return undefined
  }
}

export class RecentIds {
  /** The two 32-bit halves of each slot's hash; (0, 0) marks an empty slot. */
  private readonly lo: Int32Array
  private readonly hi: Int32Array
  private readonly mask: number
  /** Hashes in the order first seen; the oldest is forgotten when the window is full. */
  private readonly ringLo: Int32Array
  private readonly ringHi: Int32Array
  private next = 0
  private size = 0
  // The hash of the key at hand (two lanes, so nothing is allocated to return it).
  private h1 = 0
  private h2 = 0

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError('RecentIds needs room for at least one id')
    let capacity = 8
    while (capacity < max * 2) capacity *= 2
    this.lo = new Int32Array(capacity)
    this.hi = new Int32Array(capacity)
    this.mask = capacity - 1
    this.ringLo = new Int32Array(max)
    this.ringHi = new Int32Array(max)
  }

  /** Remembers `id`; false when it was already seen within the window (a duplicate). */
  firstSeen(id: unknown): boolean {
    const key = keyOf(id)
    if (key === undefined) return true
    this.hash(key)
    const {lo, hi, mask, h1, h2} = this
    let i = h1 & mask
    for (; lo[i] !== 0 || hi[i] !== 0; i = (i + 1) & mask) {
      if (lo[i] === h1 && hi[i] === h2) return false
    }
    if (this.size === this.max) {
      this.forget(this.ringLo[this.next], this.ringHi[this.next])
      // The shift may have moved entries into the run: find the first empty slot again.
      for (i = h1 & mask; lo[i] !== 0 || hi[i] !== 0; i = (i + 1) & mask);
    }
    lo[i] = h1
    hi[i] = h2
    this.size++
    this.ringLo[this.next] = h1
    this.ringHi[this.next] = h2
    this.next = this.next + 1 === this.max ? 0 : this.next + 1
    return true
  }

  /** Two 32-bit lanes with different multipliers, cross-mixed at the end (cyrb53's scheme, all 64 bits kept). */
  private hash(key: string): void {
    let h1 = 0xdeadbeef ^ key.length
    let h2 = 0x41c6ce57 ^ key.length
    for (let i = 0; i < key.length; i++) {
      const ch = key.charCodeAt(i)
      h1 = Math.imul(h1 ^ ch, 2654435761)
      h2 = Math.imul(h2 ^ ch, 1597334677)
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
    // (0, 0) means empty; this one hash moves next door.
    if (h1 === 0 && h2 === 0) h2 = 1
    this.h1 = h1 | 0
    this.h2 = h2 | 0
  }

  /** Deletion by backward shift (Knuth's algorithm R): later entries of the run move up. */
  private forget(h1: number, h2: number): void {
    const {lo, hi, mask} = this
    let hole = h1 & mask
    while (lo[hole] !== h1 || hi[hole] !== h2) {
      if (lo[hole] === 0 && hi[hole] === 0) return
      hole = (hole + 1) & mask
    }
    for (let j = (hole + 1) & mask; lo[j] !== 0 || hi[j] !== 0; j = (j + 1) & mask) {
      const home = lo[j] & mask
      // An entry stays when its home lies cyclically in (hole, j]: moving it would hide it.
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j
      if (stays) continue
      lo[hole] = lo[j]
      hi[hole] = hi[j]
      hole = j
    }
    lo[hole] = 0
    hi[hole] = 0
    this.size--
  }
}

/**
 * Address text → gazetteer entries: an in-memory index over the district's
 * subdistricts, communities, roads, buildings and points of interest.
 *
 * A query is normalised (address-normalise.ts), stripped of a leading
 * subdistrict/community it names, then looked up three ways, best first:
 * 1. exact: the whole text is an entry's name, alias or door address (score 1);
 * 2. structured: name + door number, where the name is exact or fuzzy and the
 *    number exact, differently suffixed, or the nearest on that road/compound;
 * 3. fuzzy, only when 1 and 2 found nothing scoring 0.9: names proposed by a
 *    bigram inverted index, scored by the best of bigram Dice, edit similarity
 *    and containment, then their doors as in 2.
 * The fuzzy index holds only the names before the numbers (≈ 7,000 distinct
 * strings), not every address, so the "号楼" shared by 40,000 buildings never
 * sits in a posting list. Nothing scoring `minScore` → no candidates and the
 * nearest names, so the caller answers 404 with suggestions instead of guessing.
 */
import { communityCore, normaliseAddress, parseAddress, subdistrictCore, type DoorNumber, type ParsedAddress } from './address-normalise.ts'

export type GazetteerKind = 'subdistrict' | 'community' | 'road' | 'building' | 'poi'

/** One named place: an area, a road, a building or compound, a point of interest. */
export interface GazetteerEntry {
  /** Stable id, unique in the gazetteer. */
  id: string
  kind: GazetteerKind
  /** The name as shown: 望京街道, 阜通东大街, 望京西园三区312号楼, 望京南站. */
  name: string
  /** Other names it is known by (地铁望京南站, 花家地北里小区). */
  aliases?: string[]
  /** Full postal address, 北京市朝阳区望京街道阜通东大街6号; the door part is searchable. */
  address?: string
  /** A representative point, WGS84, inside a cell of the district. */
  lon: number
  lat: number
  /** 9-digit code of the subdistrict the point is in. */
  subdistrictCode: string
  /** 12-digit code of the community the point is in (absent for subdistricts). */
  communityCode?: string
  /** For roads: the centreline, [lon, lat] vertices along cell edges. */
  line?: [number, number][]
}

/** One ranked answer. */
export interface Candidate {
  entry: GazetteerEntry
  /** 0…1: 1 is an exact match of a name or address; below `minScore` is never returned. */
  score: number
  /** The normalised name or address of the entry that the query matched. */
  matched: string
  method: 'exact' | 'structured' | 'fuzzy'
}

export interface SearchOptions {
  /** Candidates returned at most (default 5). */
  limit?: number
  /** Candidates scoring below this are dropped (default 0.5). */
  minScore?: number
}

export interface SearchResult {
  /** The query after normalisation (what was looked up). */
  normalised: string
  /** Best first; empty when nothing scored `minScore` or more. */
  candidates: Candidate[]
  /** When there are no candidates: the names that came closest, for a 404 that suggests. */
  nearest: string[]
}

/** Scores and weights, one place to tune them. */
export const SCORES = {
  // default threshold: below it a "match" is more often wrong than right
  minScore: 0.5,
  // a fuzzy name is never as good as the same text spelt right
  fuzzy: 0.95,
  // the named place is in another subdistrict / community than the text says
  wrongSubdistrict: 0.9,
  wrongCommunity: 0.95,
  // door matched but its suffix differs or was left off (6 vs 6号, 4号 vs 4号院)
  otherUnit: 0.95,
  // 甲88号 asked, 88号 found (or the reverse)
  otherPrefix: 0.9,
  // the yard or door is right, the building in it is not known
  yardOnly: 0.85,
  // the road or compound is right, the number is not there: the nearest number, decaying with distance
  nearestNumber: 0.85,
  // the road or compound itself when the number is not known
  baseOnly: 0.75,
  // text after the door that is no unit or room
  trailingText: 0.9,
  // an area named by another spelling than its name (望京, 望京乡, 安贞里 for 安贞里社区)
  variant: 0.98,
  // once something scores this, fuzzy alternatives are not looked for
  skipFuzzy: 0.9,
} as const

const SUBDISTRICT_MARK = /街道|地区|乡|镇/g
const COMMUNITY_MARK = /社区|村/g
const KIND_ORDER: Record<GazetteerKind, number> = { subdistrict: 0, community: 1, poi: 2, road: 3, building: 4 }
// bigram candidates looked at per query; more only helps when many names are near-equal
const FUZZY_TOP = 8
// a bigram in more bases than this (区$, 路$, ^北) does not propose candidates when rarer ones can
const COMMON_GRAM = 300
// a unit, floor, room or hyphenated tail after a door
const UNITISH_REST = /^(?:-|\d|单元|层|楼|室|门)/
// characters of a query looked at
const MAX_QUERY = 200
// the fuzzy names kept for nearest-name suggestions
const NEAREST = 5

interface DoorRecord extends DoorNumber {
  entry: number
  key: string
}

interface Base {
  text: string
  /** A name to show when suggesting this base. */
  display: string
  /** Entries whose key is exactly this base (the road or compound itself). */
  self: number[]
  /** Entries of which this base is a variant spelling (望京乡 for 望京街道). */
  variants: number[]
  /** Entries with a door number after this base: a road's doors, a compound's buildings. */
  doors: DoorRecord[]
}

interface Admin { subdistrict?: string; community?: string }

/** One reading of the query: as written, without the areas it begins with, without a leading 北京. */
interface Variant { text: string; admin: Admin; parsed: ParsedAddress }

/** Bigrams with start and end marks, so short names and first/last characters count. */
function bigrams(s: string): string[] {
  const chars = [...s]
  if (chars.length === 0) return []
  const out = new Set<string>()
  out.add('^' + chars[0])
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i] + chars[i + 1])
  out.add(chars[chars.length - 1] + '$')
  return [...out]
}

function levenshtein(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const cur = [i]
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1))
    prev = cur
  }
  return prev[y.length]
}

/**
 * The searchable index. Build once from entries (the 57,000 of the fixture in
 * about half a second); `search` is synchronous: tens of thousands of exact
 * or structured queries a second, thousands of fuzzy ones (tests/bench/address.ts).
 *
 * @example
 * const g = new Gazetteer(entries)
 * g.search('北京市朝陽區望京西園三區312號樓').candidates[0] // { entry: …, score: 1, matched: '望京西园三区312号楼', method: 'exact' }
 */
export class Gazetteer {
  readonly entries: readonly GazetteerEntry[]
  private readonly byId = new Map<string, GazetteerEntry>()
  // key → entry index, or −1 − i for the list exactLists[i] when several entries share the key (rare)
  private readonly exact = new Map<string, number>()
  private readonly exactLists: number[][] = []
  private readonly bases: Base[] = []
  private readonly baseIds = new Map<string, number>()
  private readonly grams = new Map<string, number[]>()
  private readonly chars = new Map<string, number[]>()
  private readonly baseGrams: string[][] = []
  private counts: Uint16Array = new Uint16Array(0)
  // a subdistrict or community named at the start of an address: its spellings → code
  private readonly subdistrictForms = new Map<string, string>()
  private readonly communityForms = new Map<string, string>()
  private maxFormLength = 0
  // address prefixes (北京市朝阳区望京街道) already known to say only region and subdistrict
  private readonly plainPrefixes = new Map<string, boolean>()

  constructor(entries: readonly GazetteerEntry[]) {
    this.entries = entries
    // areas first: addresses are indexed without the subdistrict they begin with, so those must be known
    for (const e of entries) {
      if (this.byId.has(e.id)) throw new Error(`duplicate gazetteer id ${e.id}`)
      this.byId.set(e.id, e)
      this.addAdminForms(e)
    }
    entries.forEach((e, i) => {
      const { keys, variants } = this.keysOf(e)
      for (const key of keys) this.addKey(key, i, e)
      for (const key of variants) this.base(key).variants.push(i)
    })
    this.counts = new Uint16Array(this.bases.length)
    this.bases.forEach((b, id) => {
      const g = bigrams(b.text)
      this.baseGrams.push(g)
      for (const gram of g) push(this.grams, gram, id)
      for (const c of new Set(b.text)) push(this.chars, c, id)
    })
  }

  /** Entries in the index. */
  get size(): number {
    return this.entries.length
  }

  /** The entry with this id. */
  get(id: string): GazetteerEntry | undefined {
    return this.byId.get(id)
  }

  /** Every normalised spelling under which an entry is found, without repeats. */
  private keysOf(e: GazetteerEntry): { keys: string[]; variants: string[] } {
    // (module functions, not closures: tsx names every closure it creates, at a cost per entry)
    const keys: string[] = []
    const name = normaliseAddress(e.name)
    addUnique(keys, name)
    for (const a of e.aliases ?? []) addUnique(keys, normaliseAddress(a))
    // the door part of a full address: without the subdistrict it begins with
    if (e.address) addUnique(keys, this.addressKey(e.address, e.name, name))
    // spellings of an area's name that are not its name: found a shade below an exact match,
    // so 安贞里 is first the compound of that name, then the community 安贞里社区
    const variants: string[] = []
    if (e.kind === 'subdistrict') {
      const core = subdistrictCore(name)
      // 望京, 望京街道, 望京地区, 望京乡 all name it; so people write them
      for (const form of [core, `${core}街道`, `${core}地区`, `${core}乡`, `${core}镇`]) if (!keys.includes(form)) addUnique(variants, form)
    } else if (e.kind === 'community') {
      const core = communityCore(name)
      for (const form of [core, `${core}社区`]) if (!keys.includes(form)) addUnique(variants, form)
    }
    return { keys, variants }
  }

  /**
   * The normalised door part of an address. Most addresses are a region
   * prefix and the entry's own name (北京市朝阳区望京街道 + 望京西园三区312号楼):
   * when the prefix is only region and subdistrict, the key is the name's,
   * and normalising the whole address again would double the build.
   */
  private addressKey(address: string, name: string, nameKey: string): string {
    if (address.endsWith(name)) {
      const prefix = address.slice(0, address.length - name.length)
      let plain = this.plainPrefixes.get(prefix)
      if (plain === undefined) {
        const k = normaliseAddress(prefix)
        plain = k === '' || this.subdistrictForms.has(k)
        this.plainPrefixes.set(prefix, plain)
      }
      if (plain) return nameKey
    }
    return this.stripAdmin(normaliseAddress(address), false).rest
  }

  private addExact(key: string, i: number): void {
    const old = this.exact.get(key)
    if (old === undefined) this.exact.set(key, i)
    else if (old >= 0) {
      if (old !== i) {
        this.exact.set(key, -1 - this.exactLists.length)
        this.exactLists.push([old, i])
      }
    } else {
      const list = this.exactLists[-1 - old]
      if (!list.includes(i)) list.push(i)
    }
  }

  /** Entries whose key is exactly the text. */
  private exactHits(text: string): readonly number[] {
    const hit = this.exact.get(text)
    return hit === undefined ? [] : hit >= 0 ? [hit] : this.exactLists[-1 - hit]
  }

  /** Registers the spellings of a subdistrict or community that may open an address. */
  private addAdminForms(e: GazetteerEntry): void {
    if (e.kind !== 'subdistrict' && e.kind !== 'community') return
    const name = normaliseAddress(e.name)
    let forms: string[] = []
    let into: Map<string, string> | undefined
    let code: string | undefined
    if (e.kind === 'subdistrict') {
      const core = subdistrictCore(name)
      forms = [name, `${core}街道`, `${core}地区`, `${core}乡`, `${core}镇`]
      into = this.subdistrictForms
      code = e.subdistrictCode
    } else if (e.communityCode) {
      // only forms ending in 社区 or 村: what opens an address is marked as a community
      forms = [`${communityCore(name)}社区`, ...(/村$/.test(name) ? [name] : [])]
      into = this.communityForms
      code = e.communityCode
    }
    if (!into || !code) return
    for (const form of forms) {
      into.set(form, code)
      this.maxFormLength = Math.max(this.maxFormLength, form.length)
    }
  }

  private base(text: string): Base {
    let id = this.baseIds.get(text)
    if (id === undefined) {
      id = this.bases.length
      this.baseIds.set(text, id)
      this.bases.push({ text, display: text, self: [], variants: [], doors: [] })
    }
    return this.bases[id]
  }

  private addKey(key: string, i: number, e: GazetteerEntry): void {
    this.addExact(key, i)
    const { base, door } = parseAddress(key)
    const b = this.base(base)
    if (!door) {
      b.self.push(i)
      // show the name as written the first time something is exactly this base
      if (b.self.length === 1) b.display = e.name
      return
    }
    b.doors.push({ prefix: door.prefix, n: door.n, unit: door.unit, building: door.building, entry: i, key })
  }

  /**
   * Removes a leading subdistrict and (with `community`) community that the
   * text names; returns them and what is left. A community is kept when only
   * a number would be left: 北湖村5号 is a village door, not door 5 anywhere.
   */
  private stripAdmin(text: string, community = true): Admin & { rest: string } {
    const admin: Admin & { rest: string } = { rest: text }
    const sd = this.longestForm(admin.rest, this.subdistrictForms, SUBDISTRICT_MARK)
    if (sd) {
      admin.subdistrict = sd.code
      admin.rest = admin.rest.slice(sd.length)
    }
    const cm = community ? this.longestForm(admin.rest, this.communityForms, COMMUNITY_MARK) : undefined
    if (cm && !/^[甲乙丙丁]?\d/.test(admin.rest.slice(cm.length))) {
      admin.community = cm.code
      admin.rest = admin.rest.slice(cm.length)
    }
    return admin
  }

  /**
   * The longest known form at the start of the text that ends in one of the
   * marks (街道, 社区…) and leaves something after it. Only the places where a
   * mark occurs are tried: a bare core (望京) at the start is more often the
   * beginning of a name (望京西园) than the area.
   */
  private longestForm(text: string, forms: Map<string, string>, marks: RegExp): { code: string; length: number } | undefined {
    let best: { code: string; length: number } | undefined
    marks.lastIndex = 0
    for (let m = marks.exec(text); m && m.index < this.maxFormLength; m = marks.exec(text)) {
      const end = m.index + m[0].length
      if (end >= text.length) break
      const code = forms.get(text.slice(0, end))
      if (code) best = { code, length: end }
    }
    return best
  }

  /**
   * Ranked candidates for an address or place name. Never guesses: when no
   * entry scores `minScore`, `candidates` is empty and `nearest` lists the
   * names that came closest.
   *
   * @example g.search('望京西园三区312', { limit: 3 }) // 312号楼 first, score 0.95
   */
  search(text: string, opts: SearchOptions = {}): SearchResult {
    const limit = opts.limit ?? 5
    const minScore = opts.minScore ?? SCORES.minScore
    // no address is this long; a longer text would only cost time
    const normalised = normaliseAddress(text.slice(0, MAX_QUERY)).slice(0, MAX_QUERY)
    const best = new Map<number, Candidate>()
    if (normalised === '') return { normalised, candidates: [], nearest: [] }

    const stripped = this.stripAdmin(normalised)
    const variants: Variant[] = [{ text: normalised, admin: {}, parsed: parseAddress(normalised) }]
    if (stripped.rest !== normalised && stripped.rest !== '') variants.push({ text: stripped.rest, admin: stripped, parsed: parseAddress(stripped.rest) })
    // a bare 北京 is kept by normalisation (北京东站), but more often it is only the city: try without it too
    if (normalised.startsWith('北京') && normalised.length > 3) {
      const rest = normalised.slice(2)
      variants.push({ text: rest, admin: {}, parsed: parseAddress(rest) })
    }

    // exact text, then the exact name with its number
    for (const v of variants) {
      for (const i of this.exactHits(v.text)) this.offer(best, i, 1, v.text, 'exact', v.admin)
      const id = this.baseIds.get(v.parsed.base)
      if (id !== undefined) this.lookUp(best, v, [{ id, sim: 1 }])
    }
    // fuzzy names only when nothing so far is nearly certain: the bulk of the cost, and it
    // would only add alternatives scoring below what was found
    let top = 0
    for (const c of best.values()) top = Math.max(top, c.score)
    if (top < SCORES.skipFuzzy) {
      for (const v of variants) this.lookUp(best, v, this.fuzzy(v.parsed.base, FUZZY_TOP).filter((h) => h.sim < 1))
    }

    const candidates = [...best.values()]
      .filter((c) => c.score >= minScore)
      .sort((a, b) => b.score - a.score || KIND_ORDER[a.entry.kind] - KIND_ORDER[b.entry.kind] || a.entry.id.localeCompare(b.entry.id))
      .slice(0, limit)
      .map((c) => ({ ...c, score: Math.round(c.score * 1000) / 1000 }))
    const last = variants[variants.length - 1].parsed.base
    return { normalised, candidates, nearest: candidates.length ? [] : this.nearest(last || normalised) }
  }

  /** Keeps an entry's best score, scaled down when the text named another subdistrict or community. */
  private offer(best: Map<number, Candidate>, i: number, score: number, matched: string, method: Candidate['method'], admin: Admin): void {
    const e = this.entries[i]
    let s = score
    if (admin.subdistrict && e.subdistrictCode !== admin.subdistrict) s *= SCORES.wrongSubdistrict
    else if (admin.community && e.communityCode && e.communityCode !== admin.community) s *= SCORES.wrongCommunity
    const old = best.get(i)
    if (!old || old.score < s) best.set(i, { entry: e, score: s, matched, method })
  }

  /** Offers what bases matching a query's name hold: the places themselves, and the doors when it has a number. */
  private lookUp(best: Map<number, Candidate>, v: Variant, baseHits: Hit[]): void {
    const { door, rest } = v.parsed
    const trailing = door && rest !== '' && !UNITISH_REST.test(rest) ? SCORES.trailingText : 1
    for (const { id, sim } of baseHits) {
      const b = this.bases[id]
      const method = sim === 1 ? 'structured' : 'fuzzy'
      const scale = sim === 1 ? 1 : sim * SCORES.fuzzy
      const whole = door ? SCORES.baseOnly * trailing : 1
      for (const i of b.self) this.offer(best, i, scale * whole, b.text, method, v.admin)
      for (const i of b.variants) this.offer(best, i, scale * whole * SCORES.variant, b.text, method, v.admin)
      if (door) for (const hit of this.matchDoor(b, door)) this.offer(best, hit.rec.entry, scale * hit.score * trailing, hit.rec.key, method, v.admin)
    }
  }

  /**
   * The `k` bases most like the text. Candidates come from the posting lists
   * of the query's bigrams, skipping the very common ones (区$, 路$) when rarer
   * ones exist; each candidate is then scored exactly: the best of bigram
   * Dice, edit similarity (kinder to one wrong character in a short name) and
   * containment (the query holds the whole name and more).
   */
  private fuzzy(text: string, k: number): Hit[] {
    if (text === '') return []
    const g = bigrams(text)
    const touched: number[] = []
    const counts = this.counts
    const common: string[] = []
    let rare = 0
    for (const gram of g) if ((this.grams.get(gram)?.length ?? 0) <= COMMON_GRAM) rare++
    for (const gram of g) {
      const ids = this.grams.get(gram)
      if (!ids) continue
      if (rare > 0 && ids.length > COMMON_GRAM) {
        common.push(gram)
        continue
      }
      for (const id of ids) if (counts[id]++ === 0) touched.push(id)
    }
    const byDice = new TopK(k * 4)
    for (const id of touched) {
      let c = counts[id]
      counts[id] = 0
      for (const gram of common) if (this.baseGrams[id].includes(gram)) c++
      byDice.offer(id, (2 * c) / (g.length + this.baseGrams[id].length))
    }
    const top = new TopK(k)
    const qLen = [...text].length
    for (const { id, sim } of byDice.hits) {
      const b = this.bases[id].text
      const bLen = [...b].length
      let s = Math.max(sim, 1 - levenshtein(text, b) / Math.max(qLen, bLen))
      // the whole name inside a longer text (中国中医科学院望京医院 ∋ 望京医院)
      if (bLen >= 3 && qLen > bLen && text.includes(b)) s = Math.max(s, 0.6 + (0.4 * bLen) / qLen)
      top.offer(id, s)
    }
    return top.hits
  }

  /** Doors of base `b` that fit the asked door, each with how well (0…1). */
  private matchDoor(b: Base, q: DoorNumber): { rec: DoorRecord; score: number }[] {
    if (q.unit !== '') {
      const exact = b.doors.filter((r) => r.n === q.n && r.unit === q.unit && r.prefix === q.prefix && r.building === q.building)
      if (exact.length) return exact.map((rec) => ({ rec, score: 1 }))
    }
    const out: { rec: DoorRecord; score: number }[] = []
    let nearest: DoorRecord[] = []
    let nearestD = Infinity
    for (const rec of b.doors) {
      if (rec.n === q.n) {
        let s = 1
        if (rec.unit !== q.unit && !(q.unit === '号' && rec.unit === '号院')) s *= SCORES.otherUnit
        if (rec.prefix !== q.prefix) s *= SCORES.otherPrefix
        if (q.building !== rec.building) {
          if (rec.building === undefined) s *= SCORES.yardOnly
          else continue // another building of the yard is a guess
        }
        out.push({ rec, score: s })
      } else if (rec.building === undefined && rec.prefix === '' && q.building === undefined) {
        const d = Math.abs(rec.n - q.n)
        if (d < nearestD) {
          nearestD = d
          nearest = [rec]
        } else if (d === nearestD) nearest.push(rec)
      }
    }
    if (out.length === 0 && nearest.length) {
      // Numbers alternate sides (odd one side, even the other): prefer the same parity at the same distance
      const s = SCORES.nearestNumber * (1 - Math.min(nearestD, 20) / 40)
      for (const rec of nearest) out.push({ rec, score: (rec.n - q.n) % 2 === 0 ? s : s * 0.98 })
    }
    return out
  }

  /** The names closest to a text that matched nothing: by bigrams, else shared characters, else edit distance. */
  private nearest(text: string): string[] {
    const names: string[] = []
    const take = (ids: Iterable<number>): boolean => {
      for (const id of ids) {
        const b = this.bases[id]
        // a base known only from doors (a road in a foreign dataset) is shown as its text
        const first = b.self[0] ?? b.variants[0]
        const name = first === undefined ? b.display : this.entries[first].name
        if (!names.includes(name)) names.push(name)
        if (names.length === NEAREST) return true
      }
      return false
    }
    if (take(this.fuzzy(text, NEAREST * 3).map((h) => h.id))) return names
    // few shared bigrams: shared characters, more first, then shorter names (the rarer characters
    // alone when there are some: 区 and 路 are in thousands of names and say little)
    const chars = [...new Set(text)].filter((c) => this.chars.has(c))
    const rare = chars.filter((c) => (this.chars.get(c)?.length ?? 0) <= COMMON_GRAM)
    const counts = this.counts
    const touched: number[] = []
    for (const c of rare.length ? rare : chars) for (const id of this.chars.get(c) ?? []) if (counts[id]++ === 0) touched.push(id)
    const byChars = new TopK(NEAREST * 3)
    for (const id of touched) {
      byChars.offer(id, counts[id] - this.bases[id].text.length / 1000)
      counts[id] = 0
    }
    if (take(byChars.hits.map((h) => h.id))) return names
    // nothing in common at all (Latin gibberish): the cheapest edits, scanning the few thousand names once
    const q = text.slice(0, 32)
    // (many bases are spellings of one area, so look at more of them than names wanted)
    take(topK(this.bases.map((b, id) => ({ id, sim: -levenshtein(q, b.text.slice(0, 32)) })), NEAREST * 10).map((h) => h.id))
    return names
  }
}

function addUnique(list: string[], k: string): void {
  if (k && !list.includes(k)) list.push(k)
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) {
    if (list[list.length - 1] !== value) list.push(value)
  } else map.set(key, [value])
}

interface Hit { id: number; sim: number }
const better = (a: Hit, b: Hit): boolean => a.sim > b.sim || (a.sim === b.sim && a.id < b.id)

/**
 * Keeps the k best hits seen, best first, ties by id (so results do not depend
 * on insertion order). Insertion into a short sorted array: k is small and
 * most hits fail the first comparison, far cheaper than sorting thousands.
 */
class TopK {
  readonly hits: Hit[] = []
  constructor(private readonly k: number) {}
  offer(id: number, sim: number): void {
    const h = this.hits
    const hit = { id, sim }
    if (h.length === this.k && !better(hit, h[h.length - 1])) return
    let i = h.length
    while (i > 0 && better(hit, h[i - 1])) i--
    h.splice(i, 0, hit)
    if (h.length > this.k) h.pop()
  }
}

function topK(hits: Hit[], k: number): Hit[] {
  const top = new TopK(k)
  for (const h of hits) top.offer(h.id, h.sim)
  return top.hits
}

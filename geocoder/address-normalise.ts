/**
 * Address text normalisation for the gazetteer. Index keys and queries go
 * through the same `normaliseAddress`, so whatever it folds together (script,
 * width, numerals, suffix variants) matches both ways. Everything here is a
 * pure function of its input.
 */
import * as OpenCC from 'opencc-js/t2cn'

const NFKC_STABLE = /^[\x20-\x7e\u4e00-\u9fff]*$/

/**
 * Full-width ASCII (U+FF01–FF5E) and the ideographic space (U+3000) to their
 * half-width forms, then Unicode NFKC so circled and other compatibility
 * digits (①, ⑫) and compatibility ideographs fold too.
 *
 * @example toHalfWidth('１２号楼Ａ座') // '12号楼A座' (U+3000, the ideographic space, becomes a space too)
 */
export function toHalfWidth(text: string): string {
  // printable ASCII and CJK unified ideographs are already NFKC: most text is only these
  if (NFKC_STABLE.test(text)) return text
  if (!/[\uff01-\uff5e\u3000]/.test(text)) return text.normalize('NFKC')
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0)
    else if (c === 0x3000) out += ' '
    else out += text[i]
  }
  return out.normalize('NFKC')
}

type Converter = (text: string) => string
interface T2S { convert: Converter; changes: Uint8Array | undefined }
let t2s: T2S | undefined

/** Characters that can change under a dictionary: any char of a key that differs from its value at the same place. */
function changingChars(dicts: unknown, into: Set<string>): void {
  const pair = (k: string, v: string): void => {
    const a = [...k]
    const b = [...v]
    if (a.length !== b.length) for (const c of a) into.add(c)
    else for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) into.add(a[i])
  }
  if (typeof dicts === 'string') {
    for (const p of dicts.split('|')) {
      const [k, v] = p.split(' ')
      if (k && v !== undefined) pair(k, v)
    }
  } else if (Array.isArray(dicts)) {
    if (dicts.length === 2 && typeof dicts[0] === 'string' && typeof dicts[1] === 'string' && !/[ |]/.test(dicts[0])) pair(dicts[0], dicts[1])
    else for (const d of dicts) changingChars(d, into)
  }
}

function loadT2S(): T2S {
  // Hong Kong and Taiwan variants both occur in what people type (衞/衛, 裏/裡); chaining both covers either.
  const hk = OpenCC.Converter({ from: 'hk', to: 'cn' })
  const tw = OpenCC.Converter({ from: 'tw', to: 'cn' })
  const changes = new Set<string>()
  // The configs carry more chains than the published type admits (normalizationChain), so read them loosely.
  const configs = (OpenCC.Locale as unknown as { configs?: Record<string, Record<string, unknown>> }).configs ?? {}
  for (const name of ['hk2s', 'tw2s']) {
    const cfg = configs[name]
    if (!cfg) continue
    changingChars(cfg.normalizationChain, changes)
    changingChars(cfg.conversionChain, changes)
  }
  // A flag per UTF-16 unit is the fastest test; a character beyond the BMP flags its high
  // surrogate, which errs on the side of converting. No flags: the configs were not found,
  // and toSimplified then converts every string.
  const flags = new Uint8Array(0x10000)
  for (const c of changes) flags[c.charCodeAt(0)] = 1
  return { convert: (s) => tw(hk(s)), changes: changes.size ? flags : undefined }
}

/**
 * Traditional (including Hong Kong and Taiwan variants) → simplified Chinese,
 * phrase-aware (OpenCC). A string with no character that any rule changes is
 * returned untouched without running the converter: that is exact, not a
 * heuristic, and keeps already-simplified text (nearly all of it) cheap.
 *
 * @example toSimplified('北京市朝陽區望京西園三區312號樓') // '北京市朝阳区望京西园三区312号楼'
 */
export function toSimplified(text: string): string {
  t2s ??= loadT2S()
  const flags = t2s.changes
  if (flags) {
    let any = false
    for (let i = 0; i < text.length && !any; i++) any = flags[text.charCodeAt(i)] === 1
    if (!any) return text
  }
  return t2s.convert(text)
}

const CN_DIGIT: Record<string, number> = { 〇: 0, 零: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 }
const CN_UNIT: Record<string, number> = { 十: 10, 百: 100, 千: 1000 }

/**
 * Reads a Chinese numeral, positional (十二, 一百零八, 两百) or digit by digit
 * (一零一, 二〇一); null when it is not one.
 *
 * @example chineseNumeralToInt('十二') // 12
 */
export function chineseNumeralToInt(text: string): number | null {
  if (text === '') return null
  let positional = false
  for (const c of text) {
    if (c in CN_UNIT) positional = true
    else if (!(c in CN_DIGIT)) return null
  }
  if (!positional) {
    let n = 0
    for (const c of text) n = n * 10 + CN_DIGIT[c]
    return n
  }
  let total = 0
  let digit: number | null = null
  let lastUnit = Infinity
  for (const c of text) {
    if (c in CN_DIGIT) {
      if (digit !== null && digit !== 0 && CN_DIGIT[c] !== 0) return null // 二三十 is not a number
      digit = CN_DIGIT[c]
    } else {
      const unit = CN_UNIT[c]
      if (unit >= lastUnit) return null // 十百 or 百百
      // 十 alone stands for 一十; 百 and 千 need their digit
      const d = digit ?? (unit === 10 ? 1 : null)
      if (d === null || d === 0) return null
      total += d * unit
      lastUnit = unit
      digit = null
    }
  }
  return total + (digit ?? 0)
}

const SMALL = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九']

/**
 * 1…99 as a Chinese numeral, the way zone names write them (三区, 十二区).
 *
 * @example intToChinese(12) // '十二'
 */
export function intToChinese(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 99) throw new RangeError(`intToChinese takes 1…99, got ${n}`)
  if (n < 10) return SMALL[n]
  const tens = Math.floor(n / 10)
  return (tens === 1 ? '' : SMALL[tens]) + '十' + SMALL[n % 10]
}

// A numeral run immediately followed by a house-number word. 区, 里 and 环 are not
// among them, so place names like 三区, 八里庄 and 东三环 stay as written.
const CN_HOUSE_NUMERAL = /[〇零一二两三四五六七八九十百千]+(?=号|栋|幢|座|单元|层|室|楼)/g

/**
 * Chinese numerals in house, building, unit, floor and room numbers become
 * Arabic digits; numerals that are part of a name (三区, 十里堡) are left alone.
 *
 * @example convertHouseNumerals('花家地北里四号院十二号楼') // '花家地北里4号院12号楼'
 */
export function convertHouseNumerals(text: string): string {
  return text.replace(CN_HOUSE_NUMERAL, (run) => {
    const n = chineseNumeralToInt(run)
    return n === null ? run : String(n)
  })
}

// Leading parts that say nothing inside the district: a postcode, the country, the city, the district.
const REGION_START = new Set(['1', '中', '北', '市', '朝'])
const REGION_PREFIX = /^(?:10\d{4}|中国|中华人民共和国|北京市|北京(?=朝阳区)|市辖区|朝阳区)/

/**
 * Removes the postcode, 中国, 北京市 and 朝阳区 at the start, as often as they
 * repeat. Bare 北京 is kept unless 朝阳区 follows, and bare 朝阳 is always kept:
 * they begin real names (北京东站, 朝阳路, 朝阳公园).
 *
 * @example stripRegionPrefix('北京市朝阳区望京街道') // '望京街道'
 */
export function stripRegionPrefix(text: string): string {
  // every prefix begins with one of these; most text begins with none
  if (!REGION_START.has(text.charAt(0))) return text
  let s = text
  for (let prev = ''; prev !== s;) {
    prev = s
    s = s.replace(REGION_PREFIX, '')
  }
  return s
}

// One pass over the text; the alternatives, in order:
// 1 社区居委会, 居委会 and 居民委员会 all name the community; 2 a village committee its village;
// 3 街道办(事处) the subdistrict; 4 地区办事处; 5 乡/镇(人民)政府;
// 6 a building: 12号楼, 12栋, 12幢, 12座, 12#, 12#楼, 12楼 (the last is how 312楼 is said for 312号楼);
// 7 a yard: 4号院 and 4院; 8 a zone number in digits after a name: 望京西园3区 → 望京西园三区.
const SUFFIXES = /(社区居民委员会|社区居委会|居民委员会|居委会|居委)|(村民委员会|村委会)|(街道办事处|街道办)|(地区办事处)|([乡镇])(?:人民政府|政府)|(\d+)(?:号楼|号栋|号幢|号座|栋|幢|座|#楼|#|楼)|(\d+)号?院|([\u3400-\u9fff])(\d{1,2})区/g
// Text without any of these has nothing for SUFFIXES to change (canonical keys, nearly all of them).
const SUFFIX_TRIGGER = /[委办政栋幢座#]|\d[楼院区]/

/**
 * Unifies the spellings of suffixes: 居委会 → 社区, 街道办事处 → 街道, 栋/幢/座/# → 号楼,
 * 院 → 号院 after a number, and a zone number in digits after a name → Chinese
 * (望京西园3区 → 望京西园三区, the way zone names are written). Expects
 * half-width, simplified text with house numerals already in digits.
 *
 * @example unifySuffixes('望京西园3区312栋') // '望京西园三区312号楼'
 */
export function unifySuffixes(text: string): string {
  if (!SUFFIX_TRIGGER.test(text)) return text
  return text.replace(SUFFIXES, (m: string, ...g: (string | undefined)[]) => {
    if (g[0] !== undefined) return '社区'
    if (g[1] !== undefined) return '村'
    if (g[2] !== undefined) return '街道'
    if (g[3] !== undefined) return '地区'
    if (g[4] !== undefined) return g[4]
    if (g[5] !== undefined) return `${g[5]}号楼`
    if (g[6] !== undefined) return `${g[6]}号院`
    const n = Number(g[8])
    return n >= 1 && n <= 99 ? `${g[7]}${intToChinese(n)}区` : m
  })
}

// Text of only CJK ideographs, Latin letters and digits has no punctuation to sweep.
const PLAIN = /^[\u3400-\u9fffa-z0-9]*$/
// Words after an address that place the caller near it, not elsewhere.
const TRAILING_PLACE = /(?:附近|旁边|对面|门口|周边|一带)+$/

/**
 * The whole pipeline used for index keys and queries alike: half-width,
 * simplified, lower case, house numerals to digits, no whitespace or
 * punctuation (a hyphen between digits is kept: 4-2-301), no region prefix,
 * unified suffixes, no trailing 附近/对面.
 *
 * @example normaliseAddress('北京市朝陽區 望京西園三區 三一二號樓') // '望京西园三区312号楼'
 */
export function normaliseAddress(text: string): string {
  let s = toSimplified(toHalfWidth(text)).toLowerCase()
  s = convertHouseNumerals(s)
  if (!PLAIN.test(s)) {
    // keep the one hyphen that carries meaning (building-unit-room) through the punctuation sweep
    s = s.replace(/(\d)\s*[-–—~]+\s*(?=\d)/g, '$1\ue000')
    s = s.replace(/[^\p{L}\p{N}#\ue000]+/gu, '')
    s = s.replace(/\ue000/g, '-')
  }
  s = stripRegionPrefix(s)
  s = unifySuffixes(s)
  return s.replace(TRAILING_PLACE, '')
}

const SUBDISTRICT_SUFFIX = /(?:街道|地区|回族乡|民族乡|乡|镇)$/
const COMMUNITY_SUFFIX = /(?:社区|村委会|居委会)$/

/**
 * A subdistrict's name without its kind: 望京街道, 望京地区 and 望京乡 are all 望京;
 * 常营回族乡 is 常营. A name that is only a suffix is returned whole.
 *
 * @example subdistrictCore('南磨房地区') // '南磨房'
 */
export function subdistrictCore(name: string): string {
  const core = name.replace(SUBDISTRICT_SUFFIX, '')
  return core === '' ? name : core
}

/**
 * A community's name without 社区: 望京西园社区 → 望京西园. A village (…村) keeps 村,
 * which is part of its name.
 *
 * @example communityCore('花家地社区') // '花家地'
 */
export function communityCore(name: string): string {
  const core = name.replace(COMMUNITY_SUFFIX, '')
  return core === '' ? name : core
}

/** The number part of an address: 甲88号, 4号院2号楼, 312号楼. */
export interface DoorNumber {
  /** 甲乙丙丁 before the number: an extra door beside the plain one. */
  prefix: string
  n: number
  /** '号' a door, '号院' a yard, '号楼' a building, '' a bare number (the suffix was left off). */
  unit: '号' | '号院' | '号楼' | ''
  /** A building inside the yard or door: the 2 of 4号院2号楼. */
  building?: number
}

/** A normalised address split into the name before the number and the number. */
export interface ParsedAddress {
  /** The road, compound or place name before the number (the whole text when there is no number). */
  base: string
  door?: DoorNumber
  /** What follows the door: unit, floor, room (2单元301). */
  rest: string
}

const DOOR = /^(.*?)([甲乙丙丁]?)(\d+)(号院|号楼|号|)(?:(\d+)号楼)?(.*)$/
// What may follow a door and still be a door: a unit, floor or room, a hyphenated tail, or a bare number.
const UNITISH = /^(?:$|-|\d|单元|层|楼|室|门)/

/**
 * Splits a normalised address into its name and its door number. A number
 * that is part of a name (798艺术区, 14号线望京南站) is no door: there must be a
 * name before it and nothing but a unit, floor or room after it.
 *
 * @example parseAddress('花家地北里4号院2号楼') // { base: '花家地北里', door: { prefix: '', n: 4, unit: '号院', building: 2 }, rest: '' }
 */
export function parseAddress(normalised: string): ParsedAddress {
  const m = DOOR.exec(normalised)
  if (!m || m[1] === '' || !UNITISH.test(m[6])) return { base: normalised, rest: '' }
  let unit = m[4] as DoorNumber['unit']
  let building = m[5] === undefined ? undefined : Number(m[5])
  let rest = m[6]
  // 4号院2 (the 号楼 left off): a bare number straight after a yard is its building
  if (building === undefined && unit === '号院' && /^\d+$/.test(rest)) {
    building = Number(rest)
    rest = ''
  }
  // 4号2号楼 is how 4号院2号楼 is often written
  if (unit === '号' && building !== undefined) unit = '号院'
  const door: DoorNumber = { prefix: m[2], n: Number(m[3]), unit }
  if (building !== undefined) door.building = building
  return { base: m[1], door, rest }
}

/**
 * The canonical text of a door number, as it appears in normalised keys.
 *
 * @example doorText({ prefix: '', n: 4, unit: '号院', building: 2 }) // '4号院2号楼'
 */
export function doorText(door: DoorNumber): string {
  return `${door.prefix}${door.n}${door.unit}${door.building === undefined ? '' : `${door.building}号楼`}`
}

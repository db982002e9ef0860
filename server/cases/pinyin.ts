/**
 * Pinyin initials for picking a matter on a phone: "jgds" finds 井盖丢失.
 * Each character keeps every initial its readings have (行 → x, h), so a
 * polyphone the dictionary reads wrongly in a word (行道树 as háng) is still
 * found by the reading the user has in mind. pinyin-pro carries the
 * dictionary; the initials are computed once per taxonomy revision.
 */
import { pinyin } from 'pinyin-pro'

/** Per character, the lower-case initials it may be typed with (letters and digits stand for themselves; punctuation is dropped). */
export function initialsOf(text: string): string[] {
  const chars = [...text]
  // The reading in context first (盖 in 井盖 is gài, not the surname Gě), then every other reading.
  const inContext = pinyin(text, { pattern: 'first', toneType: 'none', type: 'array' })
  const aligned = inContext.length === chars.length
  const out: string[] = []
  chars.forEach((ch, i) => {
    if (/[A-Za-z0-9]/.test(ch)) { out.push(ch.toLowerCase()); return }
    if (!/\p{Script=Han}/u.test(ch)) return
    const all = [...(aligned ? [inContext[i]] : []), ...pinyin(ch, { pattern: 'first', toneType: 'none', type: 'array', multiple: true })]
    const letters = [...new Set(all.map((s) => s.toLowerCase()).filter((s) => /^[a-z]$/.test(s)))]
    if (letters.length) out.push(letters.join(''))
  })
  return out
}

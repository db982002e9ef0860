/**
 * The phone's matter picker: a query finds matters by Chinese name (any part)
 * or by pinyin initials along consecutive characters ("jgds" → 井盖丢失;
 * initials per character from GET /api/matter-picker, polyphones with every
 * reading, from server/cases/pinyin.ts initialsOf).
 */
export interface PickerMatter {
  code: string
  name: string
  major_name: string
  component_subclass: string | null
  initials: string[]
}

export function matchesInitials(initials: readonly string[], query: string): boolean {
  const q = query.toLowerCase()
  if (q === '') return true
  for (let start = 0; start + q.length <= initials.length; start++) {
    let i = 0
    while (i < q.length && initials[start + i].includes(q[i])) i++
    if (i === q.length) return true
  }
  return false
}

/**
 * Matters for a query, best first: name starts with it, then name contains it,
 * then initials from the first character, then initials anywhere; ties keep
 * the taxonomy's order. At most `limit`.
 */
export function searchMatters(all: readonly PickerMatter[], query: string, limit = 30): PickerMatter[] {
  const q = query.trim().toLowerCase()
  if (q === '') return all.slice(0, limit)
  const ascii = /^[a-z0-9]+$/.test(q)
  const scored: { m: PickerMatter; score: number; i: number }[] = []
  all.forEach((m, i) => {
    let score = -1
    if (m.name.startsWith(q)) score = 0
    else if (m.name.includes(q) || m.major_name.includes(q)) score = 1
    else if (ascii && matchesInitials(m.initials.slice(0, q.length), q)) score = 2
    else if (ascii && matchesInitials(m.initials, q)) score = 3
    else if (m.code.endsWith(q)) score = 4
    if (score >= 0) scored.push({ m, score, i })
  })
  return scored.sort((a, b) => a.score - b.score || a.i - b.i).slice(0, limit).map((s) => s.m)
}

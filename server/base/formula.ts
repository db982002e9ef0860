/**
 * Indicator formulas (监测指标公式) are data: arithmetic over named measures,
 * e.g. `(satisfied + basic) / rated * 100`. They are parsed here into a tree
 * and evaluated in TypeScript over the measures SQL computed; the text of a
 * formula never reaches SQL. Division by zero gives null ("no data"), and so
 * does any operation on null.
 */

export type Expr =
  | { op: 'num'; value: number }
  | { op: 'ref'; name: string }
  | { op: 'neg'; arg: Expr }
  | { op: '+' | '-' | '*' | '/'; left: Expr; right: Expr }

export class FormulaError extends Error {
  constructor(message: string, readonly at: number) {
    super(message)
    this.name = 'FormulaError'
  }
}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|([a-z_][a-z0-9_]*)|([-+*/()]))/y

/**
 * Parses a formula; `names` are the measures it may use.
 * @example parseFormula('closed / due_close * 100', new Set(['closed', 'due_close']))
 */
export function parseFormula(text: string, names: ReadonlySet<string>): Expr {
  const tokens: { t: string; kind: 'num' | 'id' | 'sym'; at: number }[] = []
  TOKEN.lastIndex = 0
  let i = 0
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break
    TOKEN.lastIndex = i
    const m = TOKEN.exec(text)
    if (!m) throw new FormulaError(`unexpected character at ${i + 1}: "${text.slice(i).trim()[0]}"`, i)
    const at = m.index + m[0].length - (m[1] ?? m[2] ?? m[3]).length
    if (m[1] !== undefined) tokens.push({ t: m[1], kind: 'num', at })
    else if (m[2] !== undefined) tokens.push({ t: m[2], kind: 'id', at })
    else tokens.push({ t: m[3], kind: 'sym', at })
    i = TOKEN.lastIndex
  }
  let p = 0
  const peek = (): string | undefined => tokens[p]?.t
  const expr = (): Expr => {
    let left = term()
    while (peek() === '+' || peek() === '-') {
      const op = tokens[p++].t as '+' | '-'
      left = { op, left, right: term() }
    }
    return left
  }
  const term = (): Expr => {
    let left = unary()
    while (peek() === '*' || peek() === '/') {
      const op = tokens[p++].t as '*' | '/'
      left = { op, left, right: unary() }
    }
    return left
  }
  const unary = (): Expr => {
    if (peek() === '-') { p++; return { op: 'neg', arg: unary() } }
    return atom()
  }
  const atom = (): Expr => {
    const tok = tokens[p]
    if (!tok) throw new FormulaError('the formula ends too early', text.length)
    p++
    if (tok.kind === 'num') return { op: 'num', value: Number(tok.t) }
    if (tok.kind === 'id') {
      if (!names.has(tok.t)) throw new FormulaError(`unknown measure "${tok.t}"`, tok.at)
      return { op: 'ref', name: tok.t }
    }
    if (tok.t === '(') {
      const e = expr()
      if (peek() !== ')') throw new FormulaError('a "(" is not closed', tok.at)
      p++
      return e
    }
    throw new FormulaError(`unexpected "${tok.t}"`, tok.at)
  }
  if (!tokens.length) throw new FormulaError('the formula is empty', 0)
  const e = expr()
  if (p < tokens.length) throw new FormulaError(`unexpected "${tokens[p].t}"`, tokens[p].at)
  return e
}

/** The measures a formula reads. */
export function measuresOf(e: Expr, out = new Set<string>()): Set<string> {
  if (e.op === 'ref') out.add(e.name)
  else if (e.op === 'neg') measuresOf(e.arg, out)
  else if (e.op !== 'num') { measuresOf(e.left, out); measuresOf(e.right, out) }
  return out
}

/**
 * Evaluates over one unit's measures (a missing measure counts 0); null when a
 * denominator is 0.
 * @example evaluate(parseFormula('a / b', new Set(['a', 'b'])), { a: 1, b: 0 }) // null
 */
export function evaluate(e: Expr, m: Readonly<Record<string, number>>): number | null {
  switch (e.op) {
    case 'num': return e.value
    case 'ref': return m[e.name] ?? 0
    case 'neg': {
      const v = evaluate(e.arg, m)
      return v === null ? null : -v
    }
    default: {
      const a = evaluate(e.left, m)
      const b = evaluate(e.right, m)
      if (a === null || b === null) return null
      if (e.op === '+') return a + b
      if (e.op === '-') return a - b
      if (e.op === '*') return a * b
      return b === 0 ? null : a / b
    }
  }
}

/**
 * Unified social credit codes (统一社会信用代码, GB 32100-2015): 18 characters =
 * registration authority (1) + organisation kind (1) + administrative division (6)
 * + organisation code (9, GB 11714, with its own check digit) + check character (1).
 */

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

function orgCodeCheck(body8: string): string {
  let sum = 0
  for (let i = 0; i < 8; i++) sum += ALPHABET.indexOf(body8[i]) * ORG_WEIGHTS[i]
  const c = 11 - (sum % 11)
  return c === 10 ? 'X' : c === 11 ? '0' : String(c)
}

/** The check character of the first 17 characters. */
export function usccCheck(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const v = ALPHABET.indexOf(first17[i])
    if (v < 0) throw new RangeError(`character ${first17[i]} not allowed in a credit code`)
    sum += v * WEIGHTS[i]
  }
  return ALPHABET[(31 - (sum % 31)) % 31]
}

/** True when `code` is 18 characters of the code's alphabet with a correct check character. */
export function isValidUscc(code: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return false
  return usccCheck(code.slice(0, 17)) === code[17]
}

/**
 * Makes a well-formed code for a fixture organisation.
 * @param authority registration authority: '1' 机构编制 (government bodies), '9' 工商 (companies), '5' 民政
 * @param kind '1' 机关 / '2' 事业单位 for authority 1; '1' 企业 for authority 9
 * @param division 6-digit administrative division, e.g. '110105'
 * @param serial any number; its 8 digits form the organisation code's body
 * @example makeUscc('1', '1', '110105', 1) // '11110105000000001' + check … (18 chars)
 */
export function makeUscc(authority: string, kind: string, division: string, serial: number): string {
  if (!/^[0-9]{6}$/.test(division)) throw new RangeError(`bad division ${division}`)
  const body8 = String(Math.abs(Math.trunc(serial)) % 1e8).padStart(8, '0')
  const org9 = body8 + orgCodeCheck(body8)
  const first17 = authority + kind + division + org9
  return first17 + usccCheck(first17)
}

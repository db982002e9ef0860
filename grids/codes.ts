/**
 * Grid codes (DB11/T layout; GB/T 47678.3 所在单元网格标识码): a cell's 15 digits are
 * 6 district (GB/T 2260) + 3 subdistrict + 3 community + 3 cell number.
 */

export const CELL_CODE_LENGTH = 15

export interface CellCodeParts {
  district: string
  subdistrict: string
  community: string
  cell: string
  /** The cell's number inside its community, 1…999. */
  number: number
}

const CELL_CODE = /^[0-9]{15}$/

/**
 * Splits a cell code into the codes of its parents, or returns a reason it is not one.
 * @example parseCellCode('110105001001003') // { district: '110105', subdistrict: '110105001', community: '110105001001', cell: '110105001001003', number: 3 }
 */
export function parseCellCode(code: unknown): CellCodeParts | { error: string } {
  if (typeof code !== 'string') return { error: 'code must be a string of 15 digits' }
  if (!CELL_CODE.test(code)) return { error: `code "${code.slice(0, 40)}" is not 15 digits` }
  if (code.slice(6, 9) === '000') return { error: 'subdistrict part (digits 7–9) is 000' }
  if (code.slice(9, 12) === '000') return { error: 'community part (digits 10–12) is 000' }
  const number = Number(code.slice(12))
  if (number === 0) return { error: 'cell number (digits 13–15) is 000' }
  return {
    district: code.slice(0, 6),
    subdistrict: code.slice(0, 9),
    community: code.slice(0, 12),
    cell: code,
    number,
  }
}

/** Builds a cell code from its community code and number (1…999). */
export function cellCode(communityCode: string, n: number): string {
  if (!/^[0-9]{12}$/.test(communityCode)) throw new RangeError(`bad community code ${communityCode}`)
  if (!Number.isInteger(n) || n < 1 || n > 999) throw new RangeError(`cell number ${n} out of 1…999`)
  return communityCode + String(n).padStart(3, '0')
}

/** Builds a community code from its subdistrict code and number (1…999). */
export function communityCode(subdistrictCode: string, n: number): string {
  if (!/^[0-9]{9}$/.test(subdistrictCode)) throw new RangeError(`bad subdistrict code ${subdistrictCode}`)
  if (!Number.isInteger(n) || n < 1 || n > 999) throw new RangeError(`community number ${n} out of 1…999`)
  return subdistrictCode + String(n).padStart(3, '0')
}

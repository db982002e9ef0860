/**
 * Matter codes (事项, GB/T 47678.5-2026): district (6) + major (2) + sub (3),
 * and the district's finer levels below, 3 digits each. Majors 01–05 are the
 * anomalies of a management component; 06–10 are events.
 */

export const MATTER_CODE = /^[0-9]{8}([0-9]{3})*$/

export const EVENT_MAJORS: Record<string, string> = {
  '06': '市容环境类', '07': '宣传广告类', '08': '施工管理类', '09': '街面秩序类', '10': '其他事项类',
}

export const COMPONENT_MAJORS: Record<string, string> = {
  '01': '市政公用设施', '02': '交通设施', '03': '市容环卫设施', '04': '园林绿化设施', '05': '其他管理部件',
}

export interface MatterType {
  code: string
  parentCode: string | null
  level: number
  name: string
  districtCode: string
  major: string
  /** 5-digit component subclass for majors 01–05. */
  componentSubclass: string | null
  duplicateRadiusM: number | null
  facilityToleranceM: number | null
  active: boolean
  description: string | null
  keywords: string | null
}

/** Level of a well-formed code: 8 digits → 1, 11 → 2, 14 → 3 … */
export function levelOf(code: string): number {
  return (code.length - 8) / 3 + 1
}

/** The standard's level (11 digits) of a code at level 2 or below. */
export function standardCode(code: string): string {
  return code.slice(0, 11)
}

/** True for majors 01–05, whose matters are a component's anomaly. */
export function isComponentMajor(major: string): boolean {
  return major >= '01' && major <= '05'
}

/** The component subclass a component-anomaly code names (its major + sub), else null. */
export function componentSubclassOf(code: string): string | null {
  return code.length >= 11 && isComponentMajor(code.slice(6, 8)) ? code.slice(6, 11) : null
}

/**
 * Checks a code a client sent: 11 digits or more in steps of 3. Returns the
 * reason it is malformed, or null.
 * @example malformedMatter('1101050100') // 'a matter code has 11 digits (…)'
 */
export function malformedMatter(code: string): string | null {
  if (!/^[0-9]+$/.test(code)) return 'a matter code is digits only'
  if (code.length < 11 || !MATTER_CODE.test(code)) return 'a matter code has 11 digits (district 6 + major 2 + sub 3), or 14, 17 … with the district\'s finer levels'
  return null
}

/**
 * Automatic dispatch (自动分拣): from a case's matter, place, channel and the
 * component involved to the units that answer for it, by rules held as data.
 *
 * The lead unit (主办) is chosen by the first active lead rule, in priority
 * order, that matches the case and resolves to a unit: a rule aimed at the
 * component's maintainer does not resolve when no component was found, so the
 * next rule (the department for the matter, then the cell's unit) takes over.
 * Every matching assist rule adds a unit (协办), e.g. the subdistrict's command
 * centre for warning signs at an open manhole. Each unit carries the rule that
 * chose it.
 */

export const RULE_TARGETS = ['facility_maintainer', 'facility_owner', 'organisation', 'command_centre', 'cell_unit', 'subdistrict_office'] as const
export type RuleTarget = (typeof RULE_TARGETS)[number]
export type UnitRole = 'lead' | 'assist'

export interface DispatchRule {
  id: number
  name: string
  priority: number
  role: UnitRole
  /** Matter codes or code prefixes; empty: every matter. */
  matterPrefixes: readonly string[]
  /** Subdistrict codes; empty: everywhere. */
  subdistricts: readonly string[]
  /** Channels; empty: every channel. */
  channels: readonly string[]
  target: RuleTarget
  /** The unit, for target 'organisation'. */
  org: string | null
  active: boolean
}

/** What the rules look at. */
export interface RouteContext {
  matterCode: string
  subdistrictCode: string
  channel: string
  /** The cell's responsible unit. */
  cellUnit: string
  /** The subdistrict's command centre and office, when known. */
  commandCentre: string | null
  subdistrictOffice: string | null
  /** The matched component, for component anomalies. */
  facility: { owner: string; maintainer: string | null } | null
}

export interface RoutedUnit {
  org: string
  role: UnitRole
  ruleId: number
  ruleName: string
  target: RuleTarget
}

export interface Routing {
  lead: RoutedUnit | null
  assists: RoutedUnit[]
}

export function matches(rule: DispatchRule, ctx: RouteContext): boolean {
  if (!rule.active) return false
  if (rule.matterPrefixes.length && !rule.matterPrefixes.some((p) => ctx.matterCode.startsWith(p))) return false
  if (rule.subdistricts.length && !rule.subdistricts.includes(ctx.subdistrictCode)) return false
  if (rule.channels.length && !rule.channels.includes(ctx.channel)) return false
  return true
}

/** The unit a rule points at for this case, or null when it has none (no component, no office…). */
export function resolve(rule: DispatchRule, ctx: RouteContext): string | null {
  switch (rule.target) {
    case 'facility_maintainer': return ctx.facility?.maintainer ?? null
    case 'facility_owner': return ctx.facility?.owner ?? null
    case 'organisation': return rule.org
    case 'command_centre': return ctx.commandCentre
    case 'cell_unit': return ctx.cellUnit
    case 'subdistrict_office': return ctx.subdistrictOffice
  }
}

/** Rules in the order they are tried: priority, then id. */
export function ordered(rules: readonly DispatchRule[]): DispatchRule[] {
  return [...rules].sort((a, b) => a.priority - b.priority || a.id - b.id)
}

/**
 * Routes one case. `rules` must already be `ordered`.
 * @example route(rules, { matterCode: '11010501005', facility: { owner: POWER, maintainer: POWER }, … }).lead?.org // POWER
 */
export function route(rules: readonly DispatchRule[], ctx: RouteContext): Routing {
  let lead: RoutedUnit | null = null
  const assists: RoutedUnit[] = []
  for (const r of rules) {
    if (!matches(r, ctx)) continue
    if (r.role === 'lead' && lead) continue
    const org = resolve(r, ctx)
    if (!org) continue
    const unit = { org, role: r.role, ruleId: r.id, ruleName: r.name, target: r.target }
    if (r.role === 'lead') lead = unit
    else if (!assists.some((a) => a.org === org)) assists.push(unit)
  }
  return { lead, assists: assists.filter((a) => a.org !== lead?.org) }
}

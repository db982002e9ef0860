/**
 * The case service: intake from every channel and the steps of the loop, each
 * in one transaction. No HTTP here; routes and benchmarks call it.
 *
 * Intake: validate → locate (the geocoder's in-memory snapshot) → in the
 * transaction: lock, look up (idempotency key, photos, duplicate, component) →
 * route (rules) → write the case, its first report, event and planned units;
 * or, for a duplicate, link the report to the open case it repeats.
 */
import { createHash } from 'node:crypto'
import type { Database, Queryable } from '../db/types.ts'
import type { GridSnapshot } from '../plugins/geocoder.ts'
import { toWgs84, type Crs } from '../../geocoder/crs.ts'
import { GeocoderError } from '../../geocoder/errors.ts'
import { planeRadius } from '../../geocoder/facility-index.ts'
import type { FacilityLookup } from '../../geocoder/facility-types.ts'
import { AppError, ErrorCode } from '../errors.ts'
import type { CaseConfig } from './config.ts'
import { route, type RoutedUnit } from './dispatch.ts'
import { startClock } from './clock.ts'
import { MACHINE, check, checkRole, type Action, type Stage, type Status } from './machine.ts'
import { componentSubclassOf, malformedMatter, standardCode } from './matters.ts'
import { REPORT_CHANNELS, SEES_ALL, SYSTEM_ACTOR, type Actor, type Channel, type Role } from './roles.ts'
import { applyAction, chain, type ActionInput, type CaseState, type Effect, type UnitChoice } from './transition.ts'
import { caseView, clockOf, type CaseView } from './view.ts'
import { findComponent, intakeCase, type FacilityMatch, type IntakeCaseResult, type NewCase } from '../repositories/case-intake.ts'
import { applyEffect, existingPhotos, lockCase } from '../repositories/case-transitions.ts'
import { CaseQueries, type CaseFilter, type CaseRow, type Scope } from '../repositories/case-queries.ts'

/** A component named by the reporter may be this far from the point given. */
const NAMED_FACILITY_MAX_M = 100
/** Duplicate locks: squares of 0.01° (≈ 850 m × 1,110 m); a radius ≤ 500 m touches at most 2 × 2. */
const LOCK_CELL_DEG = 0.01

export interface IntakeInput {
  matter: string
  description: string
  channel?: Channel
  point?: { lon: number; lat: number; crs?: Crs }
  address?: string
  photos?: string[]
  facility_id?: string
  contact?: { name?: string; phone?: string; email?: string }
}

/** How intake ended, before the answer is made. */
type Outcome =
  | { kind: 'replay'; caseId: number; reportId: number; created: boolean }
  | { kind: 'linked'; caseId: number; reportId: number; distance: number }
  | { kind: 'created'; caseId: number; reportId: number; row: CaseRow | null }

export interface IntakeResult {
  status: 201 | 200
  case: CaseView
  /** The report was taken as a repeat of an open case. */
  linked: boolean
  duplicate_of: number | null
  distance_m: number | null
  report_id: number
  /** Same key, same request: the earlier answer. */
  replayed: boolean
  message: string
}

/** Finds a point for an address (the gazetteer), WGS84. */
export type AddressLocator = (text: string) => { lon: number; lat: number; matched: string; score: number } | null

export interface CaseServiceDeps {
  db: Database
  geocoder: () => GridSnapshot | null
  config: () => CaseConfig
  /** The facility registry's in-memory index; without one (or while empty) PostGIS answers. */
  facilities?: () => FacilityLookup | null
  now?: () => Date
}

/** Which cases an actor sees. */
export function scopeOf(actor: Actor): Scope {
  if (actor.role === 'system' || SEES_ALL.includes(actor.role)) return { kind: 'all' }
  if (actor.role === 'handler') return { kind: 'org', org: actor.org ?? '' }
  return { kind: 'reporter', userId: actor.userId ?? -1 }
}

/** A 53-bit lock key of a string (two FNV-1a hashes). */
export function lockKey(s: string): string {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193) >>> 0
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0
  }
  return String((a & 0x1fffff) * 2 ** 32 + b)
}

/** The lock keys of the squares a duplicate within `radiusM` of the point could be in. */
export function duplicateLockKeys(matterStd: string, lon: number, lat: number, radiusM: number): string[] {
  const dLat = radiusM / 110_574
  const dLon = radiusM / (111_320 * Math.cos((lat * Math.PI) / 180))
  const keys = new Set<string>()
  for (const x of [lon - dLon, lon + dLon]) {
    for (const y of [lat - dLat, lat + dLat]) keys.add(lockKey(`${matterStd}:${Math.floor(x / LOCK_CELL_DEG)}:${Math.floor(y / LOCK_CELL_DEG)}`))
  }
  return [...keys]
}

/** An address is taken when the gazetteer's best match scores this or more (0.9: exact or a near spelling of an exact name). */
const ADDRESS_MIN_SCORE = 0.9

/** The point of an address by the grid's gazetteer, or null. */
async function gazetteerHit(snapshot: GridSnapshot, text: string): Promise<{ lon: number; lat: number; matched: string; score: number } | null> {
  const g = await snapshot.gazetteer()
  const best = g.search(text, { limit: 1, minScore: ADDRESS_MIN_SCORE }).candidates[0]
  return best ? { lon: best.entry.lon, lat: best.entry.lat, matched: best.matched, score: best.score } : null
}

const fail = (status: number, code: string, message: string, details?: unknown): AppError => new AppError(status, code, message, details)

function requestHash(input: IntakeInput): string {
  return createHash('sha256').update(JSON.stringify(input)).digest('hex')
}

/** A case just reported, before any step: what the columns default to. */
const EMPTY_ROW: Omit<CaseRow, 'id' | 'matter_code' | 'matter_name' | 'channel' | 'description' | 'lon' | 'lat' | 'cell_code' | 'community_code'
  | 'subdistrict_code' | 'district_code' | 'reported_at' | 'last_reported_at' | 'updated_at' | 'units'> = {
  status: 'reported', resume_status: null, address: null, community_name: null, subdistrict_name: null, grid_version: null,
  facility_id: null, facility_owner: null, facility_owner_name: null, facility_maintainer: null, facility_distance_m: null, reporter_id: null,
  lead_unit: null, lead_unit_name: null, report_count: 1, event_count: 1, rework_count: 0, return_count: 0, defer_count: 0,
  extension_count: 0, extension_minutes: 0, pending_extension_minutes: null, pending_extension_reason: null, pending_extension_at: null,
  accept_due_at: null, accepted_at: null, accept_on_time: null, voided_at: null, dispatch_due_at: null, dispatched_at: null, dispatch_on_time: null,
  started_at: null, handle_due_at: null, handled_at: null, handle_on_time: null, verify_due_at: null, verified_at: null, verify_on_time: null,
  close_due_at: null, closed_at: null, close_on_time: null, stage: null, clock_started_at: null, clock_used_minutes: 0,
  clock_limit_minutes: null, clock_basis: null, warn_at: null, due_at: null,
}

/** The part of a case row an action reads (cases/transition.ts). */
export function stateOf(r: CaseRow): CaseState {
  return {
    id: r.id,
    status: r.status as Status,
    resumeStatus: r.resume_status as Status | null,
    matterCode: r.matter_code,
    leadUnit: r.lead_unit,
    clock: clockOf(r),
    pendingExtensionMinutes: r.pending_extension_minutes,
    onTime: { accept: r.accept_on_time, dispatch: r.dispatch_on_time, handle: r.handle_on_time, verify: r.verify_on_time, close: r.close_on_time },
    dispatchedAt: r.dispatched_at,
    startedAt: r.started_at,
    planned: r.units.filter((u) => u.state === 'planned').map((u) => ({ org: u.org, role: u.role, ruleId: u.rule_id, ruleName: u.rule_name })),
  }
}

export class CaseService {
  readonly queries: CaseQueries
  private clock: () => Date
  private addressLocator: AddressLocator | null = null

  constructor(private readonly deps: CaseServiceDeps) {
    this.queries = new CaseQueries(deps.db)
    this.clock = deps.now ?? (() => new Date())
  }

  now(): Date {
    return this.clock()
  }

  /** Tests and benchmarks move time; the service never reads the system clock otherwise. */
  setClock(now: () => Date): void {
    this.clock = now
  }

  setAddressLocator(l: AddressLocator | null): void {
    this.addressLocator = l
  }

  /** The point of a report: its own (any CRS) or its address's; WGS84. */
  private async locate(input: IntakeInput, snapshot: GridSnapshot): Promise<{ lon: number; lat: number; inLon: number; inLat: number; crs: string; ordinal: number }> {
    let inLon: number
    let inLat: number
    let crs: Crs = 'wgs84'
    if (input.point) {
      inLon = input.point.lon
      inLat = input.point.lat
      crs = input.point.crs ?? 'wgs84'
    } else if (input.address) {
      const hit = this.addressLocator ? this.addressLocator(input.address) : await gazetteerHit(snapshot, input.address)
      if (!hit) throw fail(422, 'address_not_found', `no place in the gazetteer matches "${input.address}" well enough; send a point`, { field: 'body.address' })
      inLon = hit.lon
      inLat = hit.lat
    } else {
      throw fail(400, 'location_required', 'a report needs a point (lon, lat, crs) or an address', { field: 'body.point' })
    }
    let p: [number, number]
    try {
      p = crs === 'wgs84' ? [inLon, inLat] : toWgs84(inLon, inLat, crs)
      if (crs === 'wgs84' && !(inLon >= -180 && inLon <= 180 && inLat >= -90 && inLat <= 90)) throw new GeocoderError('invalid_coordinates', 'lon/lat out of range', 'lon')
    } catch (err) {
      if (err instanceof GeocoderError) throw fail(400, err.code, err.message, { field: `body.point.${err.field ?? 'lon'}` })
      throw err
    }
    const r = snapshot.index.locate(p[0], p[1])
    if (r.outside) {
      throw fail(422, 'outside_district', `the point is ${Math.round(r.distanceM)} m outside the district (tolerance ${snapshot.index.toleranceM} m)`,
        { field: 'body.point', distance_m: Math.round(r.distanceM * 10) / 10, point: { lon: p[0], lat: p[1] } })
    }
    return { lon: p[0], lat: p[1], inLon, inLat, crs, ordinal: r.ordinal }
  }

  /** Takes a report from any channel. Throws AppError for bad input; nothing is written then. */
  async intake(actor: Actor, input: IntakeInput, idempotencyKey: string | null): Promise<IntakeResult> {
    if (actor.role === 'system') throw new Error('the system does not report cases')
    const role: Role = actor.role
    const channels = REPORT_CHANNELS[role]
    if (!channels.length) throw fail(403, 'forbidden_role', `a ${role} does not report cases`, { role })
    const channel = input.channel ?? channels[0]
    if (!channels.includes(channel)) throw fail(403, 'channel_not_allowed', `a ${role} reports through ${channels.join(', ')}, not ${channel}`, { field: 'body.channel' })

    const config = this.deps.config()
    const bad = malformedMatter(input.matter)
    if (bad) throw fail(400, 'invalid_matter_code', bad, { field: 'body.matter' })
    const matter = config.matter(input.matter)
    if (!matter) throw fail(422, 'unknown_matter', `no matter type ${input.matter}`, { field: 'body.matter' })
    if (!matter.active) throw fail(422, 'matter_inactive', `matter type ${input.matter} (${matter.name}) is no longer in use`, { field: 'body.matter' })
    if (matter.level < 2) throw fail(422, 'matter_too_coarse', `${input.matter} is a major class; report a sub-class (11 digits or finer)`, { field: 'body.matter' })
    const description = input.description.trim()
    if (!description) throw fail(400, ErrorCode.validation, 'description is empty', [{ field: 'body.description', message: 'must not be blank' }])

    const snapshot = this.deps.geocoder()
    if (!snapshot) throw fail(503, 'index_not_ready', 'no grid is loaded yet')
    const at = await this.locate(input, snapshot)
    const info = snapshot.info[at.ordinal]
    if (info.district.code !== matter.districtCode) {
      throw fail(422, 'matter_district_mismatch', `matter ${matter.code} belongs to district ${matter.districtCode}; the point is in ${info.district.code}`, { field: 'body.matter' })
    }
    const subclass = componentSubclassOf(matter.code)
    if (input.facility_id && !subclass) throw fail(422, 'facility_not_applicable', `${matter.name} is not a component's anomaly; leave facility_id out`, { field: 'body.facility_id' })
    const photos = [...new Set(input.photos ?? [])]
    const matterStd = standardCode(matter.code)
    const radius = config.duplicateRadiusM(matter.code)
    const tolerance = config.facilityToleranceM(matter.code)
    const now = this.now()
    const hash = idempotencyKey ? requestHash(input) : null
    const reporterId = actor.userId

    // The nearest component from the in-memory index when there is one: no query in the transaction for it.
    const index = subclass && !input.facility_id ? this.deps.facilities?.() ?? null : null
    const fromIndex = index && index.size > 0
      ? index.nearest(at.lon, at.lat, { k: 1, subclasses: [subclass as string], maxDistanceM: tolerance })[0] ?? null
      : undefined
    // The embedded database runs one transaction at a time: nothing to lock against there.
    const locks = this.deps.db.kind === 'postgres' ? duplicateLockKeys(matterStd, at.lon, at.lat, radius) : []
    if (locks.length && idempotencyKey) locks.push(lockKey(`idem:${reporterId}:${idempotencyKey}`))
    const sortedLocks = [...new Set(locks)].sort()
    const since = new Date(now.getTime() - config.settings.duplicateWindowHours * 3_600_000)
    const contact = input.contact ?? {}
    const autoAccept = config.settings.autoAcceptChannels.includes(channel)

    /** The new case's columns, its routing and its clock, once the component is known. */
    const draft = (facility: FacilityMatch | null): { n: NewCase; units: RoutedUnit[]; c: ReturnType<typeof startClock> } => {
      const routing = route(config.rules, {
        matterCode: matter.code, subdistrictCode: info.subdistrict.code, channel,
        cellUnit: info.responsibleUnits[0]?.uscc ?? '', commandCentre: config.commandCentreOf(info.subdistrict.code),
        subdistrictOffice: config.officeOf(info.subdistrict.code), facility: facility ? { owner: facility.owner, maintainer: facility.maintainer } : null,
      })
      const units: RoutedUnit[] = routing.lead ? [routing.lead, ...routing.assists] : routing.assists
      const c = startClock('accept', config.limit(matter.code, 'accept'), now, config.calendar)
      const n: NewCase = {
        matterCode: matter.code, matterStd, channel, description, address: input.address ?? null, lon: at.lon, lat: at.lat,
        cell: info.code, community: info.community.code, subdistrict: info.subdistrict.code, district: info.district.code,
        gridVersion: snapshot.version, facility, reporterId, at: now, acceptDueAt: c.dueAt as Date, limitMinutes: c.limitMinutes as number,
        basis: c.basis as string, warnAt: c.warnAt as Date, contactName: contact.name ?? null, contactPhone: contact.phone ?? null,
        contactEmail: contact.email ?? null, inputLon: at.inLon, inputLat: at.inLat, inputCrs: at.crs, photos, idempotencyKey, requestHash: hash,
        actorRole: role, actorOrg: actor.org,
        eventData: {
          channel, cell: info.code, facility: facility ? { id: facility.id, owner: facility.owner, maintainer: facility.maintainer, distance_m: Math.round(facility.distance_m * 10) / 10 } : null,
          routing: units.map((u) => ({ org: u.org, role: u.role, rule_id: u.ruleId, rule_name: u.ruleName })),
        },
        units: units.map((u) => ({ org: u.org, role: u.role, ruleId: u.ruleId, ruleName: u.ruleName })),
      }
      return { n, units, c }
    }
    /** What was written, as a read would return it: no query to answer. */
    const createdRow = (id: number, d: ReturnType<typeof draft>): CaseRow => {
      const facility = d.n.facility
      return {
        ...EMPTY_ROW, id, matter_code: matter.code, matter_name: matter.name, channel, description, address: input.address ?? null,
        lon: at.lon, lat: at.lat, cell_code: info.code, community_code: info.community.code, community_name: info.community.name,
        subdistrict_code: info.subdistrict.code, subdistrict_name: info.subdistrict.name, district_code: info.district.code, grid_version: snapshot.version,
        facility_id: facility?.id ?? null, facility_owner: facility?.owner ?? null, facility_owner_name: config.orgName(facility?.owner ?? null),
        facility_maintainer: facility?.maintainer ?? null, facility_distance_m: facility?.distance_m ?? null, reporter_id: reporterId,
        reported_at: now, last_reported_at: now, updated_at: now, accept_due_at: d.c.dueAt, stage: 'accept', clock_started_at: now,
        clock_limit_minutes: d.c.limitMinutes, clock_basis: d.c.basis, warn_at: d.c.warnAt, due_at: d.c.dueAt,
        units: d.units.map((u) => ({ org: u.org, name: config.orgName(u.org) ?? u.org, role: u.role, state: 'planned', rule_id: u.ruleId, rule_name: u.ruleName, assigned_at: now.toISOString() })),
      }
    }
    const replayOf = (r: { case_id: number; report_id: number; created_case: boolean; request_hash: string | null }): Outcome => {
      if (r.request_hash !== hash) {
        throw fail(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request', { field: 'headers.idempotency-key', case_id: r.case_id })
      }
      return { kind: 'replay', caseId: r.case_id, reportId: r.report_id, created: r.created_case }
    }
    const missingPhotos = (missing: string[]): AppError => fail(422, 'unknown_photo', `${missing.length} photo(s) were not uploaded: POST them to /api/photos first`, { field: 'body.photos', missing })

    /** What intake_case answered, as an outcome; `row` when nothing after the call changes the case. */
    const outcomeOf = (r: IntakeCaseResult, d: ReturnType<typeof draft>, row: boolean): Outcome => {
      if (r.kind === 'replay') return replayOf(r)
      if (r.kind === 'missing_photos') throw missingPhotos(r.missing)
      if (r.kind === 'linked') return { kind: 'linked', caseId: r.case_id, reportId: r.report_id, distance: r.distance_m }
      return { kind: 'created', caseId: r.case_id, reportId: r.report_id, row: row ? createdRow(r.case_id, d) : null }
    }
    const indexed: FacilityMatch | null = fromIndex
      ? { id: fromIndex.id, subclass: fromIndex.subclass, owner: fromIndex.owner, maintainer: fromIndex.maintainer, status: fromIndex.status, distance_m: fromIndex.distanceM ?? 0 }
      : null

    let outcome: Outcome
    if (!input.facility_id && !autoAccept && (fromIndex !== undefined || !subclass)) {
      // Everything decided before the call (the component from the index, or none): intake_case
      // is its own transaction — one round trip.
      const d = draft(indexed && indexed.distance_m <= tolerance ? indexed : null)
      outcome = outcomeOf(await intakeCase(this.deps.db, sortedLocks, radius, since, d.n), d, true)
    } else {
      // A named component, a component to find before the index is built, or a channel whose cases are
      // accepted at once: the same statement inside a transaction that does the rest.
      outcome = await this.deps.db.transaction(async (tx): Promise<Outcome> => {
        let facility = input.facility_id ? await findComponent(tx, at.lon, at.lat, { facilityId: input.facility_id })
          : fromIndex === undefined && subclass ? await findComponent(tx, at.lon, at.lat, { subclass, planeRadius: planeRadius(at.lat, tolerance) })
            : indexed
        if (input.facility_id) {
          if (!facility) throw fail(422, 'unknown_facility', `no component ${input.facility_id}`, { field: 'body.facility_id' })
          if (facility.subclass !== subclass) throw fail(422, 'facility_mismatch', `component ${facility.id} is a ${facility.subclass}, the matter is about ${subclass}`, { field: 'body.facility_id' })
          if (facility.distance_m > NAMED_FACILITY_MAX_M) throw fail(422, 'facility_too_far', `component ${facility.id} is ${Math.round(facility.distance_m)} m from the point`, { field: 'body.facility_id' })
        } else if (facility && facility.distance_m > tolerance) {
          facility = null
        }
        const d = draft(facility)
        const out = outcomeOf(await intakeCase(tx, sortedLocks, radius, since, d.n), d, !autoAccept)
        if (out.kind === 'created' && autoAccept) {
          const row = await lockCase(tx, out.caseId)
          if (row) await this.applyChecked(tx, row, 'accept', {}, SYSTEM_ACTOR, config, now)
        }
        return out
      })
    }

    const row = outcome.kind === 'created' && outcome.row ? outcome.row : await this.queries.get(outcome.caseId, { kind: 'all' })
    if (!row) throw new Error(`case ${outcome.caseId} vanished`)
    const view = caseView(row, now, config, actor)
    if (outcome.kind === 'replay') {
      return { status: outcome.created ? 201 : 200, case: view, linked: !outcome.created, duplicate_of: outcome.created ? null : outcome.caseId, distance_m: null, report_id: outcome.reportId, replayed: true, message: 'the same request was received before; this is its case' }
    }
    if (outcome.kind === 'linked') {
      return {
        status: 200, case: view, linked: true, duplicate_of: outcome.caseId, distance_m: Math.round(outcome.distance * 10) / 10, report_id: outcome.reportId, replayed: false,
        message: `已有相同问题的案件 ${outcome.caseId}（${Math.round(outcome.distance)} 米内），您的上报已并入该案件 — the problem was already reported; your report was added to case ${outcome.caseId}`,
      }
    }
    return { status: 201, case: view, linked: false, duplicate_of: null, distance_m: null, report_id: outcome.reportId, replayed: false, message: `案件 ${outcome.caseId} 已受理 — case ${outcome.caseId} was opened` }
  }

  /** Applies an action that passed the machine's checks, plus automatic dispatch after 立案. */
  private async applyChecked(tx: Queryable, row: CaseRow, action: Action, input: ActionInput, actor: Actor, config: CaseConfig, now: Date): Promise<Effect> {
    const state = stateOf(row)
    let effect = applyAction(state, action, input, { now, actor, config })
    if (action === 'accept' && config.settings.autoDispatch && effect.next.planned.some((u) => u.role === 'lead')) {
      effect = chain(effect, (s) => applyAction(s, 'dispatch', {}, { now, actor: SYSTEM_ACTOR, config }))
    }
    await applyEffect(tx, row.id, effect.patch, effect.events, effect.assignments, now)
    return effect
  }

  /** One step of the loop. Refusals: 401/403 role, 404 unseen case, 409 wrong status, 400/422 bad input. */
  async act(actor: Actor, caseId: number, action: Action, input: ActionInput): Promise<CaseView> {
    if (actor.role === 'system') throw new Error('system actions run inside intake and accept')
    const role: Role = actor.role
    const byRole = checkRole(action, role)
    if (byRole) throw fail(byRole.status, byRole.code, byRole.message, { action, role, allowed_roles: MACHINE[action].roles })
    const spec = MACHINE[action]
    const config = this.deps.config()
    const now = this.now()
    await this.deps.db.transaction(async (tx) => {
      const row = await lockCase(tx, caseId)
      if (!row || !(await this.visible(tx, row, actor))) throw fail(404, ErrorCode.notFound, `case ${caseId} not found`)
      const assigned = row.units.filter((u) => u.state === 'active').map((u) => u.org)
      const isReporter = spec.notReporter && actor.userId !== null
        && (await tx.query('SELECT 1 FROM case_reports WHERE case_id = $1 AND reporter_id = $2', [caseId, actor.userId])).rows.length > 0
      const refusal = check({
        action, role, status: row.status as Status, actorOrg: actor.org, leadUnit: row.lead_unit, assignedUnits: assigned,
        actorIsReporter: isReporter, hasPendingExtension: row.pending_extension_minutes !== null,
      })
      if (refusal) {
        throw fail(refusal.status, refusal.code, refusal.message, {
          action, status: row.status, ...('allowed' in refusal ? { allowed: refusal.allowed } : {}),
        })
      }
      const note = input.note?.trim() || null
      const photos = [...new Set(input.photos ?? [])]
      if (spec.note === 'required' && !note) throw fail(400, 'note_required', `${action} (${spec.name}) needs a note saying why`, { field: 'body.note' })
      if (spec.photos === 'required' && !photos.length) throw fail(400, 'photo_required', `${action} (${spec.name}) needs at least one photo`, { field: 'body.photos' })
      if (spec.photos === 'none' && photos.length) throw fail(400, 'photos_not_accepted', `${action} takes no photos`, { field: 'body.photos' })
      if (photos.length) {
        const have = await existingPhotos(tx, photos)
        const missing = photos.filter((p) => !have.has(p))
        if (missing.length) throw fail(422, 'unknown_photo', `${missing.length} photo(s) were not uploaded`, { field: 'body.photos', missing })
      }
      if (action === 'request_extension' && !(input.minutes && input.minutes > 0)) throw fail(400, 'minutes_required', 'say how many minutes more are needed', { field: 'body.minutes' })
      let units: UnitChoice[] | undefined
      if (action === 'dispatch') {
        units = input.units?.length ? [...input.units] : undefined
        if (units) {
          if (units.filter((u) => u.role === 'lead').length !== 1) throw fail(400, 'one_lead_unit', 'a dispatch names exactly one lead unit', { field: 'body.units' })
          const known = await tx.query<{ uscc: string }>('SELECT uscc FROM organisations WHERE uscc = ANY($1::text[])', [units.map((u) => u.org)])
          const unknown = units.map((u) => u.org).filter((o) => !known.rows.some((k) => k.uscc === o))
          if (unknown.length) throw fail(422, 'unknown_unit', `no organisation ${unknown.join(', ')}`, { field: 'body.units', unknown })
        } else if (!row.units.some((u) => u.state === 'planned' && u.role === 'lead')) {
          throw fail(422, 'no_route', 'no rule found a lead unit for this case; name the units to dispatch to', { field: 'body.units' })
        }
      }
      await this.applyChecked(tx, row, action, { note, photos, units, minutes: input.minutes }, actor, config, now)
    })
    const row = await this.queries.get(caseId, { kind: 'all' })
    if (!row) throw new Error(`case ${caseId} vanished`)
    return caseView(row, now, config, actor)
  }

  private async visible(tx: Queryable, row: CaseRow, actor: Actor): Promise<boolean> {
    const scope = scopeOf(actor)
    if (scope.kind === 'all') return true
    if (scope.kind === 'org') return row.units.some((u) => u.org === scope.org && u.state !== 'planned')
      || (await tx.query(`SELECT 1 FROM case_assignments WHERE case_id = $1 AND org = $2 AND state IN ('returned', 'done')`, [row.id, scope.org])).rows.length > 0
    return (await tx.query('SELECT 1 FROM case_reports WHERE case_id = $1 AND reporter_id = $2', [row.id, scope.userId])).rows.length > 0
  }

  async get(actor: Actor, id: number): Promise<CaseRow | null> {
    return this.queries.get(id, scopeOf(actor))
  }

  async list(actor: Actor, f: CaseFilter): Promise<CaseRow[]> {
    return this.queries.list(scopeOf(actor), f, this.now())
  }

  view(row: CaseRow, actor: Actor | null): CaseView {
    return caseView(row, this.now(), this.deps.config(), actor)
  }
}

export type { Stage }

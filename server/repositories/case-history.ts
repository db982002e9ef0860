/**
 * The bulk path for seeded history (fixtures/cases.ts): thousands of cases
 * with their reports, units and events per statement — cases as a JSON array
 * through json_populate_recordset, the many narrow rows through unnest — in
 * the caller's transaction. Ids are taken from the sequences first, so events
 * and reports can point at their case without a round trip per case.
 */
import type { Queryable } from '../db/types.ts'
import type { Clock } from '../cases/clock.ts'
import type { Status } from '../cases/machine.ts'
import type { CasePatch, EventDraft } from '../cases/transition.ts'

export interface HistoryCase {
  matterCode: string
  matterStd: string
  channel: string
  description: string
  lon: number
  lat: number
  cell: string
  community: string
  subdistrict: string
  district: string
  gridVersion: number | null
  facility: { id: string; owner: string; maintainer: string | null; distance: number } | null
  reporterId: number
  reportedAt: Date
  status?: Status
  /** Every column the lifecycle set, as the service would have (counters as `*_add`). */
  patch: CasePatch & Record<string, unknown>
  events: EventDraft[]
  units: { org: string; role: string; ruleId: number | null; ruleName: string | null; state: string; assignedAt: Date; endedAt: Date | null }[]
  /** Repeat reports linked to the case. */
  duplicates: { at: Date; channel: string; distanceM: number }[]
  acceptClock: Clock
}

/** Columns written from the JSON rows (is_open is generated). */
const CASE_COLUMNS = [
  'id', 'matter_code', 'matter_std', 'status', 'resume_status', 'channel', 'description', 'geom', 'cell_code', 'community_code', 'subdistrict_code',
  'district_code', 'grid_version', 'facility_id', 'facility_owner', 'facility_maintainer', 'facility_distance_m', 'reporter_id', 'lead_unit',
  'report_count', 'event_count', 'rework_count', 'return_count', 'defer_count', 'extension_count', 'extension_minutes',
  'pending_extension_minutes', 'pending_extension_reason', 'pending_extension_at', 'reported_at', 'last_reported_at', 'updated_at',
  'accept_due_at', 'accepted_at', 'accept_on_time', 'voided_at', 'dispatch_due_at', 'dispatched_at', 'dispatch_on_time', 'started_at',
  'handle_due_at', 'handled_at', 'handle_on_time', 'verify_due_at', 'verified_at', 'verify_on_time', 'close_due_at', 'closed_at', 'close_on_time',
  'stage', 'clock_started_at', 'clock_used_minutes', 'clock_limit_minutes', 'clock_basis', 'warn_at', 'due_at',
] as const

const COUNTERS: Record<string, string> = {
  rework_count_add: 'rework_count', return_count_add: 'return_count', defer_count_add: 'defer_count',
  extension_count_add: 'extension_count', extension_minutes_add: 'extension_minutes',
}

function caseRow(id: number, c: HistoryCase, eventCount: number): Record<string, unknown> {
  const k = c.acceptClock
  const last = c.duplicates.reduce((t, d) => (d.at > t ? d.at : t), c.reportedAt)
  const lastEvent = c.events.reduce((t, e) => (e.at > t ? e.at : t), c.reportedAt)
  const row: Record<string, unknown> = {
    id, matter_code: c.matterCode, matter_std: c.matterStd, status: 'reported', channel: c.channel, description: c.description,
    geom: `SRID=4326;POINT(${c.lon} ${c.lat})`, cell_code: c.cell, community_code: c.community, subdistrict_code: c.subdistrict,
    district_code: c.district, grid_version: c.gridVersion, facility_id: c.facility?.id ?? null, facility_owner: c.facility?.owner ?? null,
    facility_maintainer: c.facility?.maintainer ?? null, facility_distance_m: c.facility?.distance ?? null, reporter_id: c.reporterId,
    report_count: 1 + c.duplicates.length, event_count: eventCount, rework_count: 0, return_count: 0, defer_count: 0, extension_count: 0, extension_minutes: 0,
    reported_at: c.reportedAt, last_reported_at: last, updated_at: last > lastEvent ? last : lastEvent,
    accept_due_at: k.dueAt, stage: k.stage, clock_started_at: k.startedAt, clock_used_minutes: k.usedMinutes, clock_limit_minutes: k.limitMinutes,
    clock_basis: k.basis, warn_at: k.warnAt, due_at: k.dueAt,
  }
  for (const [key, v] of Object.entries(c.patch)) {
    if (v === undefined || key === 'updated_at') continue
    const counter = COUNTERS[key]
    if (counter) row[counter] = v
    else row[key] = v
  }
  return row
}

/** Writes one chunk of history; returns the rows written. */
export async function insertHistoryChunk(tx: Queryable, cases: readonly HistoryCase[]): Promise<{ events: number; reports: number }> {
  if (!cases.length) return { events: 0, reports: 0 }
  const ids = (await tx.query<{ id: number }>("SELECT nextval('cases_id_seq')::int AS id FROM generate_series(1, $1)", [cases.length])).rows.map((r) => r.id)
  const rows: Record<string, unknown>[] = []
  const ev = { case_id: [] as number[], seq: [] as number[], at: [] as Date[], action: [] as string[], from: [] as (string | null)[], to: [] as (string | null)[], actor: [] as (number | null)[], role: [] as string[], org: [] as (string | null)[], note: [] as (string | null)[], data: [] as (string | null)[] }
  const rp = { case_id: [] as number[], created: [] as boolean[], channel: [] as string[], reporter: [] as (number | null)[], description: [] as string[], lon: [] as number[], lat: [] as number[], distance: [] as (number | null)[], at: [] as Date[] }
  const un = { case_id: [] as number[], org: [] as string[], role: [] as string[], state: [] as string[], rule_id: [] as (number | null)[], rule_name: [] as (string | null)[], at: [] as Date[], ended: [] as (Date | null)[] }
  cases.forEach((c, i) => {
    const id = ids[i]
    const all = [...c.events.map((e) => ({ e, dup: null as null | HistoryCase['duplicates'][number] })), ...c.duplicates.map((d) => ({ e: null, dup: d }))]
      .sort((a, b) => (a.e?.at ?? a.dup?.at ?? 0).valueOf() - (b.e?.at ?? b.dup?.at ?? 0).valueOf())
    all.forEach((x, j) => {
      ev.case_id.push(id)
      ev.seq.push(j + 1)
      if (x.e) {
        ev.at.push(x.e.at); ev.action.push(x.e.action); ev.from.push(x.e.from); ev.to.push(x.e.to); ev.actor.push(x.e.actor.userId)
        ev.role.push(x.e.actor.role); ev.org.push(x.e.actor.org); ev.note.push(x.e.note); ev.data.push(x.e.data ? JSON.stringify(x.e.data) : null)
      } else if (x.dup) {
        ev.at.push(x.dup.at); ev.action.push('link_report'); ev.from.push(null); ev.to.push(null); ev.actor.push(null)
        ev.role.push('command_centre'); ev.org.push(null); ev.note.push(c.description); ev.data.push(JSON.stringify({ channel: x.dup.channel, distance_m: Math.round(x.dup.distanceM * 10) / 10 }))
      }
    })
    rows.push(caseRow(id, c, all.length))
    rp.case_id.push(id); rp.created.push(true); rp.channel.push(c.channel); rp.reporter.push(c.reporterId); rp.description.push(c.description)
    rp.lon.push(c.lon); rp.lat.push(c.lat); rp.distance.push(null); rp.at.push(c.reportedAt)
    for (const d of c.duplicates) {
      rp.case_id.push(id); rp.created.push(false); rp.channel.push(d.channel); rp.reporter.push(null); rp.description.push(c.description)
      rp.lon.push(c.lon + d.distanceM / 85_000); rp.lat.push(c.lat); rp.distance.push(d.distanceM); rp.at.push(d.at)
    }
    for (const u of c.units) {
      un.case_id.push(id); un.org.push(u.org); un.role.push(u.role); un.state.push(u.state); un.rule_id.push(u.ruleId); un.rule_name.push(u.ruleName)
      un.at.push(u.assignedAt); un.ended.push(u.endedAt)
    }
  })
  const cols = CASE_COLUMNS.join(', ')
  await tx.query(`INSERT INTO cases (${cols}) SELECT ${cols} FROM json_populate_recordset(null::cases, $1::json)`, [JSON.stringify(rows)])
  await tx.query(`INSERT INTO case_reports (case_id, created_case, channel, reporter_id, description, geom, input_lon, input_lat, input_crs, distance_m, reported_at)
    SELECT c, cr, ch, rep, d, ST_SetSRID(ST_MakePoint(x, y), 4326), x, y, 'wgs84', dist, t
    FROM unnest($1::bigint[], $2::boolean[], $3::text[], $4::int[], $5::text[], $6::float8[], $7::float8[], $8::real[], $9::timestamptz[]) AS r(c, cr, ch, rep, d, x, y, dist, t)`,
  [rp.case_id, rp.created, rp.channel, rp.reporter, rp.description, rp.lon, rp.lat, rp.distance, rp.at])
  await tx.query(`INSERT INTO case_assignments (case_id, org, role, state, rule_id, rule_name, assigned_at, ended_at)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::timestamptz[], $8::timestamptz[])`,
  [un.case_id, un.org, un.role, un.state, un.rule_id, un.rule_name, un.at, un.ended])
  await tx.query(`INSERT INTO case_events (case_id, seq, at, action, from_status, to_status, actor_id, actor_role, actor_org, note, data)
    SELECT c, s, t, a, f, o, u, r, g, n, d::jsonb
    FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[]) AS e(c, s, t, a, f, o, u, r, g, n, d)`,
  [ev.case_id, ev.seq, ev.at, ev.action, ev.from, ev.to, ev.actor, ev.role, ev.org, ev.note, ev.data])
  return { events: ev.case_id.length, reports: rp.case_id.length }
}

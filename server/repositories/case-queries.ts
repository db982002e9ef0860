/**
 * Reads of cases: one case with its units, lists filtered by place, matter,
 * unit, status, colour of the clock and overdue; events and reports; who may
 * see a photo. Visibility is part of every query: a handler reads its
 * organisation's cases, a resident the ones they reported, the rest all.
 */
import type { Queryable } from '../db/types.ts'

export const CASE_COLUMNS = `c.id::int AS id, c.matter_code, m.name AS matter_name, c.status, c.resume_status, c.channel, c.description, c.address,
  ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.cell_code, c.community_code, cm.name AS community_name,
  c.subdistrict_code, sd.name AS subdistrict_name, c.district_code, c.grid_version,
  c.facility_id, c.facility_owner, fo.name AS facility_owner_name, c.facility_maintainer, c.facility_distance_m,
  c.reporter_id, c.lead_unit, lu.name AS lead_unit_name, c.report_count, c.event_count, c.rework_count, c.return_count, c.defer_count,
  c.extension_count, c.extension_minutes, c.pending_extension_minutes, c.pending_extension_reason, c.pending_extension_at,
  c.reported_at, c.last_reported_at, c.updated_at,
  c.accept_due_at, c.accepted_at, c.accept_on_time, c.voided_at, c.dispatch_due_at, c.dispatched_at, c.dispatch_on_time,
  c.started_at, c.handle_due_at, c.handled_at, c.handle_on_time, c.verify_due_at, c.verified_at, c.verify_on_time,
  c.close_due_at, c.closed_at, c.close_on_time,
  c.stage, c.clock_started_at, c.clock_used_minutes, c.clock_limit_minutes, c.clock_basis, c.warn_at, c.due_at,
  (SELECT coalesce(json_agg(json_build_object('org', a.org, 'name', ao.name, 'role', a.role, 'state', a.state,
      'rule_id', a.rule_id, 'rule_name', a.rule_name, 'assigned_at', a.assigned_at) ORDER BY a.id), '[]'::json)
    FROM case_assignments a JOIN organisations ao ON ao.uscc = a.org
    WHERE a.case_id = c.id AND a.state <> 'cancelled') AS units`

export const CASE_JOINS = `FROM cases c
  JOIN matter_types m ON m.code = c.matter_code
  LEFT JOIN communities cm ON cm.code = c.community_code
  LEFT JOIN subdistricts sd ON sd.code = c.subdistrict_code
  LEFT JOIN organisations lu ON lu.uscc = c.lead_unit
  LEFT JOIN organisations fo ON fo.uscc = c.facility_owner`

export interface UnitRow {
  org: string
  name: string
  role: 'lead' | 'assist'
  state: 'planned' | 'active' | 'returned' | 'done'
  rule_id: number | null
  rule_name: string | null
  assigned_at: string
}

export interface CaseRow {
  id: number; matter_code: string; matter_name: string; status: string; resume_status: string | null; channel: string
  description: string; address: string | null; lon: number; lat: number; cell_code: string; community_code: string
  community_name: string | null; subdistrict_code: string; subdistrict_name: string | null; district_code: string; grid_version: number | null
  facility_id: string | null; facility_owner: string | null; facility_owner_name: string | null; facility_maintainer: string | null
  facility_distance_m: number | null; reporter_id: number | null; lead_unit: string | null; lead_unit_name: string | null
  report_count: number; event_count: number; rework_count: number; return_count: number; defer_count: number
  extension_count: number; extension_minutes: number; pending_extension_minutes: number | null; pending_extension_reason: string | null
  pending_extension_at: Date | null; reported_at: Date; last_reported_at: Date; updated_at: Date
  accept_due_at: Date | null; accepted_at: Date | null; accept_on_time: boolean | null; voided_at: Date | null
  dispatch_due_at: Date | null; dispatched_at: Date | null; dispatch_on_time: boolean | null; started_at: Date | null
  handle_due_at: Date | null; handled_at: Date | null; handle_on_time: boolean | null
  verify_due_at: Date | null; verified_at: Date | null; verify_on_time: boolean | null
  close_due_at: Date | null; closed_at: Date | null; close_on_time: boolean | null
  stage: string | null; clock_started_at: Date | null; clock_used_minutes: number; clock_limit_minutes: number | null
  clock_basis: string | null; warn_at: Date | null; due_at: Date | null
  units: UnitRow[]
}

/** Whose cases a caller sees. */
export type Scope = { kind: 'all' } | { kind: 'reporter'; userId: number } | { kind: 'org'; org: string }

/** $1 scope kind, $2 user id, $3 org. */
const VISIBLE = `($1::text = 'all'
  OR ($1 = 'reporter' AND EXISTS (SELECT 1 FROM case_reports vr WHERE vr.case_id = c.id AND vr.reporter_id = $2))
  OR ($1 = 'org' AND EXISTS (SELECT 1 FROM case_assignments va WHERE va.case_id = c.id AND va.org = $3 AND va.state <> 'planned' AND va.state <> 'cancelled')))`

const scopeParams = (s: Scope): unknown[] => [s.kind, s.kind === 'reporter' ? s.userId : null, s.kind === 'org' ? s.org : null]

export interface CaseFilter {
  statuses?: string[]
  open?: boolean
  matter?: string
  subdistrict?: string
  community?: string
  cell?: string
  unit?: string
  channel?: string
  overdue?: boolean
  light?: 'green' | 'yellow' | 'red'
  bbox?: [number, number, number, number]
  from?: Date
  to?: Date
  sort?: 'newest' | 'due'
  limit: number
  offset: number
}

const LIST = `SELECT ${CASE_COLUMNS} ${CASE_JOINS}
WHERE ${VISIBLE}
  AND ($4::text[] IS NULL OR c.status = ANY($4::text[]))
  AND ($5::boolean IS NULL OR c.is_open = $5)
  AND ($6::text IS NULL OR starts_with(c.matter_code, $6))
  AND ($7::text IS NULL OR c.subdistrict_code = $7)
  AND ($8::text IS NULL OR c.community_code = $8)
  AND ($9::text IS NULL OR c.cell_code = $9)
  AND ($10::text IS NULL OR c.lead_unit = $10)
  AND ($11::text IS NULL OR c.channel = $11)
  AND ($12::boolean IS NULL OR ($12 = (c.is_open AND c.due_at < $13)))
  AND ($14::text IS NULL OR (c.is_open AND c.due_at IS NOT NULL
    AND (CASE WHEN $13 < c.warn_at THEN 'green' WHEN $13 <= c.due_at THEN 'yellow' ELSE 'red' END) = $14))
  AND ($15::float8 IS NULL OR c.geom && ST_MakeEnvelope($15, $16, $17, $18, 4326))
  AND ($19::timestamptz IS NULL OR c.reported_at >= $19)
  AND ($20::timestamptz IS NULL OR c.reported_at < $20)
ORDER BY CASE WHEN $21::text = 'due' THEN c.due_at END NULLS LAST, c.id DESC
LIMIT $22 OFFSET $23`

export interface EventRow {
  seq: number; at: Date; action: string; from_status: string | null; to_status: string | null
  actor_id: number | null; actor_name: string | null; actor_role: string; actor_org: string | null; actor_org_name: string | null
  note: string | null; photos: string[]; data: Record<string, unknown> | null
}

export interface ReportRow {
  id: number; created_case: boolean; channel: string; reporter_id: number | null; reporter_name: string | null
  contact_name: string | null; contact_phone: string | null; contact_email: string | null
  description: string | null; address: string | null; lon: number; lat: number; input_crs: string
  photos: string[]; distance_m: number | null; reported_at: Date
}

export class CaseQueries {
  constructor(private readonly db: Queryable) {}

  async get(id: number, scope: Scope): Promise<CaseRow | null> {
    return (await this.db.query<CaseRow>(`SELECT ${CASE_COLUMNS} ${CASE_JOINS} WHERE ${VISIBLE} AND c.id = $4`, [...scopeParams(scope), id], { prepare: true })).rows[0] ?? null
  }

  /** True when the case exists (whoever may see it). */
  async exists(id: number): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM cases WHERE id = $1', [id])).rows.length > 0
  }

  async list(scope: Scope, f: CaseFilter, now: Date): Promise<CaseRow[]> {
    const b = f.bbox ?? [null, null, null, null]
    return (await this.db.query<CaseRow>(LIST, [
      ...scopeParams(scope), f.statuses ?? null, f.open ?? null, f.matter ?? null, f.subdistrict ?? null, f.community ?? null, f.cell ?? null,
      f.unit ?? null, f.channel ?? null, f.overdue ?? null, now, f.light ?? null, ...b, f.from ?? null, f.to ?? null, f.sort ?? 'newest', f.limit, f.offset,
    ])).rows
  }

  async events(caseId: number): Promise<EventRow[]> {
    return (await this.db.query<EventRow>(`SELECT e.seq, e.at, e.action, e.from_status, e.to_status, e.actor_id, u.name AS actor_name,
        e.actor_role, e.actor_org, o.name AS actor_org_name, e.note, e.photos, e.data
      FROM case_events e LEFT JOIN users u ON u.id = e.actor_id LEFT JOIN organisations o ON o.uscc = e.actor_org
      WHERE e.case_id = $1 ORDER BY e.seq`, [caseId])).rows
  }

  async reports(caseId: number): Promise<ReportRow[]> {
    return (await this.db.query<ReportRow>(`SELECT r.id::int AS id, r.created_case, r.channel, r.reporter_id, u.name AS reporter_name,
        r.contact_name, r.contact_phone, r.contact_email, r.description, r.address, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat,
        r.input_crs, r.photos, r.distance_m, r.reported_at
      FROM case_reports r LEFT JOIN users u ON u.id = r.reporter_id WHERE r.case_id = $1 ORDER BY r.id`, [caseId])).rows
  }

  /** True when the caller may see the photo: they uploaded it, or it belongs to a case they see. */
  /**
   * What a case's reporter (a resident) sees of its photos (migration 011): their own
   * uploads, photos published by staff, and — with publishResultPhotos — those of the
   * handle and verify steps unless staff unpublished them.
   */
  async reporterPhotos(caseId: number, userId: number | null, publishResultPhotos: boolean): Promise<Set<string>> {
    const rows = (await this.db.query<{ id: string }>(`SELECT cp.photo_id AS id FROM case_photos cp WHERE cp.case_id = $1 AND (
        cp.published IS TRUE
        OR (cp.published IS NULL AND $3 AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cp.case_id AND e.action IN ('handle', 'verify') AND cp.photo_id = ANY(e.photos)))
        OR EXISTS (SELECT 1 FROM photo_uploads pu WHERE pu.photo_id = cp.photo_id AND pu.user_id = $2))`, [caseId, userId, publishResultPhotos])).rows
    return new Set(rows.map((r) => r.id))
  }

  async photoVisible(photoId: string, scope: Scope, userId: number | null, publishResultPhotos = true): Promise<boolean> {
    if (scope.kind === 'reporter') {
      // A reporter: their own uploads, and what the district publishes of the cases they reported.
      const rows = (await this.db.query(`SELECT 1 WHERE EXISTS (SELECT 1 FROM photo_uploads pu WHERE pu.photo_id = $1 AND pu.user_id = $2)
        OR EXISTS (SELECT 1 FROM case_photos cp JOIN case_reports r ON r.case_id = cp.case_id AND r.reporter_id = $2
          WHERE cp.photo_id = $1 AND (cp.published IS TRUE OR (cp.published IS NULL AND $3
            AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cp.case_id AND e.action IN ('handle', 'verify') AND cp.photo_id = ANY(e.photos)))))`,
      [photoId, userId, publishResultPhotos])).rows
      return rows.length > 0
    }
    const rows = (await this.db.query(`SELECT 1 WHERE EXISTS (SELECT 1 FROM photo_uploads pu WHERE pu.photo_id = $4 AND pu.user_id = $5)
      OR EXISTS (SELECT 1 FROM case_photos cp JOIN cases c ON c.id = cp.case_id WHERE cp.photo_id = $4 AND ${VISIBLE})`,
    [...scopeParams(scope), photoId, userId])).rows
    return rows.length > 0
  }

  /** The case a report (an Open311 token) belongs to. */
  async caseOfReport(reportId: number): Promise<number | null> {
    return (await this.db.query<{ case_id: number }>('SELECT case_id::int AS case_id FROM case_reports WHERE id = $1', [reportId])).rows[0]?.case_id ?? null
  }

  /** Cases by id, in one query (Open311 service_request_id lists). */
  async byIds(ids: readonly number[], scope: Scope): Promise<CaseRow[]> {
    return (await this.db.query<CaseRow>(`SELECT ${CASE_COLUMNS} ${CASE_JOINS} WHERE ${VISIBLE} AND c.id = ANY($4::bigint[]) ORDER BY c.id`,
      [...scopeParams(scope), ids])).rows
  }

  /** First photo of each case (Open311 media_url). */
  async firstPhotos(ids: readonly number[]): Promise<Map<number, string>> {
    if (!ids.length) return new Map()
    const rows = (await this.db.query<{ case_id: number; photo: string }>(`SELECT DISTINCT ON (r.case_id) r.case_id::int AS case_id, r.photos[1] AS photo
      FROM case_reports r WHERE r.case_id = ANY($1::bigint[]) AND cardinality(r.photos) > 0 ORDER BY r.case_id, r.id`, [ids])).rows
    return new Map(rows.map((r) => [r.case_id, r.photo]))
  }
}

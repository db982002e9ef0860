/**
 * Writing a step of the loop: lock the case row, then apply what
 * cases/transition.ts computed — the changed columns (from an allow-list),
 * the units, the events and the photos they carry — in the caller's transaction.
 */
import type { Queryable } from '../db/types.ts'
import type { AssignmentOp, CasePatch, EventDraft } from '../cases/transition.ts'
import { CASE_COLUMNS, CASE_JOINS, type CaseRow } from './case-queries.ts'

/** Columns set to a value. */
const SET_COLUMNS = new Set<keyof CasePatch>([
  'status', 'resume_status', 'lead_unit', 'updated_at', 'accepted_at', 'voided_at', 'dispatched_at', 'started_at', 'handled_at',
  'verified_at', 'closed_at', 'accept_due_at', 'dispatch_due_at', 'handle_due_at', 'verify_due_at', 'close_due_at',
  'accept_on_time', 'dispatch_on_time', 'handle_on_time', 'verify_on_time', 'close_on_time',
  'pending_extension_minutes', 'pending_extension_reason', 'pending_extension_at',
  'stage', 'clock_started_at', 'clock_used_minutes', 'clock_limit_minutes', 'clock_basis', 'warn_at', 'due_at',
])
/** Counters increased by a value: patch key → column. */
const ADD_COLUMNS: Partial<Record<keyof CasePatch, string>> = {
  rework_count_add: 'rework_count', return_count_add: 'return_count', defer_count_add: 'defer_count',
  extension_count_add: 'extension_count', extension_minutes_add: 'extension_minutes',
}

/** The case, locked until the transaction ends, or null. */
export async function lockCase(tx: Queryable, id: number): Promise<CaseRow | null> {
  const rows = (await tx.query<CaseRow>(`SELECT ${CASE_COLUMNS} ${CASE_JOINS} WHERE c.id = $1 FOR UPDATE OF c`, [id])).rows
  return rows[0] ?? null
}

/** The UPDATE for a patch: `SET col = $n` for allowed columns only. */
export function patchSql(patch: CasePatch, eventCount: number): { sql: string; params: unknown[] } {
  const sets: string[] = []
  const params: unknown[] = []
  for (const [k, v] of Object.entries(patch) as [keyof CasePatch, unknown][]) {
    if (v === undefined) continue
    const add = ADD_COLUMNS[k]
    if (add) {
      params.push(v)
      sets.push(`${add} = ${add} + $${params.length + 1}`)
    } else if (SET_COLUMNS.has(k)) {
      params.push(v)
      sets.push(`${k} = $${params.length + 1}`)
    } else {
      throw new Error(`not a column a transition may set: ${k}`)
    }
  }
  params.push(eventCount)
  sets.push(`event_count = event_count + $${params.length + 1}`)
  return { sql: `UPDATE cases SET ${sets.join(', ')} WHERE id = $1 RETURNING event_count`, params }
}

export async function applyEffect(tx: Queryable, id: number, patch: CasePatch, events: readonly EventDraft[], ops: readonly AssignmentOp[], at: Date): Promise<void> {
  const { sql, params } = patchSql(patch, events.length)
  const after = (await tx.query<{ event_count: number }>(sql, [id, ...params])).rows[0].event_count
  for (const op of ops) {
    if (op.op === 'dispatch') {
      await tx.query(`UPDATE case_assignments SET state = 'cancelled', ended_at = $2 WHERE case_id = $1 AND state IN ('planned', 'active')`, [id, at])
      await tx.query(`INSERT INTO case_assignments (case_id, org, role, state, rule_id, rule_name, assigned_at)
        SELECT $1, org, role, 'active', rule_id, rule_name, $2 FROM unnest($3::text[], $4::text[], $5::int[], $6::text[]) AS u(org, role, rule_id, rule_name)`,
      [id, at, op.units.map((u) => u.org), op.units.map((u) => u.role), op.units.map((u) => u.ruleId), op.units.map((u) => u.ruleName)])
    } else {
      await tx.query(`UPDATE case_assignments SET state = CASE WHEN state = 'planned' THEN 'cancelled' ELSE $3 END, ended_at = $2
        WHERE case_id = $1 AND state IN ('planned', 'active')`, [id, at, op.state])
    }
  }
  const first = after - events.length + 1
  await tx.query(`INSERT INTO case_events (case_id, seq, at, action, from_status, to_status, actor_id, actor_role, actor_org, note, photos, data)
    SELECT $1, s, at, action, from_status, to_status, actor_id, actor_role, actor_org, note,
      CASE WHEN photos = '' THEN '{}'::text[] ELSE string_to_array(photos, ',') END, data::jsonb
    FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
      AS e(s, at, action, from_status, to_status, actor_id, actor_role, actor_org, note, photos, data)`,
  [id, events.map((_, i) => first + i), events.map((e) => e.at), events.map((e) => e.action), events.map((e) => e.from), events.map((e) => e.to),
    events.map((e) => e.actor.userId), events.map((e) => e.actor.role), events.map((e) => e.actor.org), events.map((e) => e.note),
    events.map((e) => e.photos.join(',')), events.map((e) => (e.data ? JSON.stringify(e.data) : null))])
  const photos = [...new Set(events.flatMap((e) => e.photos))]
  if (photos.length) {
    await tx.query('INSERT INTO case_photos (photo_id, case_id) SELECT x, $1 FROM unnest($2::text[]) AS x ON CONFLICT DO NOTHING', [id, photos])
  }
}

/** Which of these photo ids exist. */
export async function existingPhotos(tx: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set()
  return new Set((await tx.query<{ id: string }>('SELECT id FROM photos WHERE id = ANY($1::text[])', [ids])).rows.map((r) => r.id))
}

/**
 * A small hand-built district for the analysis tests: a 10 × 10 grid of 300 m
 * square cells in two subdistricts (west and east halves, two communities
 * each), three units, a few matters, users with tokens, and cases inserted row
 * by row with exactly the stage columns a test wants — so every indicator has
 * an answer worked out by hand.
 */
import type { Database, Queryable } from '../../server/db/types.ts'
import { createUser } from '../../fixtures/users.ts'

export const DISTRICT = '110105'
export const SUB_WEST = '110105101'
export const SUB_EAST = '110105102'
/** Communities: west north/south, east north/south. */
export const COMMUNITIES = ['110105101001', '110105101002', '110105102001', '110105102002']
export const ORG = {
  centreWest: '111101050000000101',
  centreEast: '111101050000000102',
  power: '911101050000000201',
  sanitation: '121101050000000202',
  water: '911101050000000203',
} as const
export const MATTERS = {
  environment: '11010506', rubbish: '11010506010', road: '11010506012',
  street: '11010509', stalls: '11010509006',
}
/** Grid origin (south-west corner) and cell size in degrees (300 m in the metric plane of migration 002). */
export const ORIGIN = { lon: 116.45, lat: 39.92 }
export const SIZE_M = 300
export const DLON = SIZE_M / 85456.1
export const DLAT = SIZE_M / 111033.7
export const N = 10

/** Cell code of column `col` (west → east) and row `row` (south → north). */
export function cellCode(col: number, row: number): string {
  const sub = col < N / 2 ? '101' : '102'
  const com = row >= N / 2 ? '001' : '002'
  return `${DISTRICT}${sub}${com}${String(col * N + row + 1).padStart(3, '0')}`
}

export function cellCentre(col: number, row: number): { lon: number; lat: number } {
  return { lon: ORIGIN.lon + (col + 0.5) * DLON, lat: ORIGIN.lat + (row + 0.5) * DLAT }
}

export interface Users { leader: string; planner: string; resident: string; supervisorA: { id: number; token: string }; supervisorB: { id: number; token: string }; handler: string; operator: number }

/** Loads the grid, units, matters and users; returns tokens. */
export async function buildDistrict(db: Database): Promise<Users> {
  await db.transaction(async (tx) => {
    const orgs: [string, string, string, string | null][] = [
      [ORG.centreWest, '西区网格中心', 'command_centre', SUB_WEST], [ORG.centreEast, '东区网格中心', 'command_centre', SUB_EAST],
      [ORG.power, '供电公司', 'utility', null], [ORG.sanitation, '环卫中心', 'public_service', null], [ORG.water, '自来水公司', 'utility', null],
    ]
    for (const [uscc, name, kind, sd] of orgs) await tx.query('INSERT INTO organisations (uscc, name, kind, subdistrict_code) VALUES ($1, $2, $3, $4)', [uscc, name, kind, sd])
    const v = (await tx.query<{ id: number }>("INSERT INTO grid_versions (source) VALUES ('analysis test') RETURNING id")).rows[0].id
    await tx.query("INSERT INTO districts (code, name) VALUES ($1, '测试区')", [DISTRICT])
    await tx.query("INSERT INTO subdistricts (code, district_code, name, command_centre) VALUES ($1, $3, '西街道', $4), ($2, $3, '东街道', $5)", [SUB_WEST, SUB_EAST, DISTRICT, ORG.centreWest, ORG.centreEast])
    for (const c of COMMUNITIES) await tx.query('INSERT INTO communities (code, subdistrict_code, name) VALUES ($1, $2, $3)', [c, c.slice(0, 9), `社区${c.slice(9)}-${c.slice(6, 9)}`])
    for (let col = 0; col < N; col++) {
      for (let row = 0; row < N; row++) {
        const code = cellCode(col, row)
        const x0 = ORIGIN.lon + col * DLON
        const y0 = ORIGIN.lat + row * DLAT
        await tx.query(`INSERT INTO cells (code, community_code, subdistrict_code, district_code, geom, area_m2, responsible_unit, version)
          VALUES ($1, $2, $3, $4, ST_MakeEnvelope($5, $6, $7, $8, 4326), 90000, $9, $10)`,
        [code, code.slice(0, 12), code.slice(0, 9), DISTRICT, x0, y0, ORIGIN.lon + (col + 1) * DLON, ORIGIN.lat + (row + 1) * DLAT, code.slice(6, 9) === '101' ? ORG.centreWest : ORG.centreEast, v])
      }
    }
    const m = (code: string, parent: string | null, name: string) => tx.query(
      'INSERT INTO matter_types (code, parent_code, level, name, district_code, major) VALUES ($1, $2, $3, $4, $5, $6)',
      [code, parent, parent ? 2 : 1, name, DISTRICT, code.slice(6, 8)])
    await m(MATTERS.environment, null, '市容环境')
    await m(MATTERS.rubbish, MATTERS.environment, '暴露垃圾')
    await m(MATTERS.road, MATTERS.environment, '道路不洁')
    await m(MATTERS.street, null, '街面秩序')
    await m(MATTERS.stalls, MATTERS.street, '无照经营游商')
  })
  const operator = await createUser(db, 'command_centre', { name: '受理员' })
  return {
    leader: (await createUser(db, 'leader', { name: '领导' })).token,
    planner: (await createUser(db, 'planner', { name: '规划员' })).token,
    resident: (await createUser(db, 'resident', { name: '市民' })).token,
    supervisorA: await createUser(db, 'supervisor', { name: '监督员甲' }),
    supervisorB: await createUser(db, 'supervisor', { name: '监督员乙' }),
    handler: (await createUser(db, 'handler', { name: '供电抢修', org: ORG.power })).token,
    operator: operator.id,
  }
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** A case as the test states it: the columns that matter, the rest defaulted. */
export interface CaseInput {
  col?: number
  row?: number
  /** Offset from the cell centre, metres east / north. */
  dx?: number
  dy?: number
  matter?: string
  status?: string
  channel?: string
  reported_at: Date
  reporter_id?: number | null
  lead_unit?: string | null
  rework_count?: number
  return_count?: number
  accepted_at?: Date | null
  accept_on_time?: boolean | null
  voided_at?: Date | null
  dispatch_due_at?: Date | null
  dispatched_at?: Date | null
  dispatch_on_time?: boolean | null
  handle_due_at?: Date | null
  handled_at?: Date | null
  handle_on_time?: boolean | null
  verify_due_at?: Date | null
  verified_at?: Date | null
  verify_on_time?: boolean | null
  closed_at?: Date | null
  close_on_time?: boolean | null
  due_at?: Date | null
}

const COLUMNS = [
  'matter_code', 'matter_std', 'status', 'channel', 'description', 'geom', 'cell_code', 'community_code', 'subdistrict_code', 'district_code',
  'reporter_id', 'lead_unit', 'rework_count', 'return_count', 'reported_at', 'last_reported_at', 'updated_at',
  'accepted_at', 'accept_on_time', 'voided_at', 'dispatch_due_at', 'dispatched_at', 'dispatch_on_time',
  'handle_due_at', 'handled_at', 'handle_on_time', 'verify_due_at', 'verified_at', 'verify_on_time', 'closed_at', 'close_on_time', 'due_at',
] as const

/** Inserts cases; returns their ids in order. */
export async function insertCases(db: Queryable, cases: readonly CaseInput[]): Promise<number[]> {
  const rows = cases.map((c) => {
    const col = c.col ?? 0
    const row = c.row ?? 0
    const p = cellCentre(col, row)
    const code = cellCode(col, row)
    const matter = c.matter ?? MATTERS.rubbish
    return {
      matter_code: matter, matter_std: matter.slice(0, 11).padEnd(11, '0'), status: c.status ?? 'closed', channel: c.channel ?? 'supervisor',
      description: 'test', geom: `SRID=4326;POINT(${p.lon + (c.dx ?? 0) / 85456.1} ${p.lat + (c.dy ?? 0) / 111033.7})`,
      cell_code: code, community_code: code.slice(0, 12), subdistrict_code: code.slice(0, 9), district_code: DISTRICT,
      reporter_id: c.reporter_id ?? null, lead_unit: c.lead_unit ?? null, rework_count: c.rework_count ?? 0, return_count: c.return_count ?? 0,
      reported_at: c.reported_at, last_reported_at: c.reported_at, updated_at: c.reported_at,
      accepted_at: c.accepted_at ?? null, accept_on_time: c.accept_on_time ?? null, voided_at: c.voided_at ?? null,
      dispatch_due_at: c.dispatch_due_at ?? null, dispatched_at: c.dispatched_at ?? null, dispatch_on_time: c.dispatch_on_time ?? null,
      handle_due_at: c.handle_due_at ?? null, handled_at: c.handled_at ?? null, handle_on_time: c.handle_on_time ?? null,
      verify_due_at: c.verify_due_at ?? null, verified_at: c.verified_at ?? null, verify_on_time: c.verify_on_time ?? null,
      closed_at: c.closed_at ?? null, close_on_time: c.close_on_time ?? null, due_at: c.due_at ?? null,
    }
  })
  const ids: number[] = []
  const cols = COLUMNS.join(', ')
  for (let i = 0; i < rows.length; i += 2000) {
    const r = await db.query<{ id: number }>(`INSERT INTO cases (${cols}) SELECT ${cols} FROM json_populate_recordset(null::cases, $1::json) RETURNING id::int AS id`, [JSON.stringify(rows.slice(i, i + 2000))])
    ids.push(...r.rows.map((x) => x.id))
  }
  return ids
}

/** Hours after a time. */
export const after = (t: Date, hours: number): Date => new Date(t.getTime() + hours * 3_600_000)

/**
 * A case that went through the whole loop, every stage on time unless told,
 * reported at `t` and closed `closeHours` later (all within the window when t is).
 */
export function closedCase(t: Date, o: Partial<CaseInput> & { closeHours?: number } = {}): CaseInput {
  const h = o.closeHours ?? 10
  return {
    status: 'closed', reported_at: t, accepted_at: after(t, h * 0.1), accept_on_time: true,
    dispatch_due_at: after(t, h * 0.3), dispatched_at: after(t, h * 0.2), dispatch_on_time: true,
    handle_due_at: after(t, h), handled_at: after(t, h * 0.6), handle_on_time: true,
    verify_due_at: after(t, h), verified_at: after(t, h * 0.8), verify_on_time: true,
    closed_at: after(t, h), close_on_time: true, ...o,
  }
}

/**
 * Third-party survey results (第三方满意度调查): a CSV per subdistrict and
 * period — satisfied / basically / not satisfied out of the respondents. Read,
 * checked row by row, and written in one transaction, all or nothing; a row
 * for a subdistrict, period and topic already stored replaces it.
 *
 * Columns: subdistrict_code, period_start, period_end (YYYY-MM-DD), topic
 * (optional, default 总体), respondents, satisfied, basic, unsatisfied, surveyor (optional).
 */
import type { Database } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { CsvError, parseCsv } from '../../geocoder/facility-csv.ts'

export interface SurveyProblem { row: number | null; field: string; error: string; reason: string }
export interface SurveyRow {
  row: number; subdistrict_code: string; period_start: string; period_end: string; topic: string
  respondents: number; satisfied: number; basic: number; unsatisfied: number; surveyor: string | null
}

export class SurveysRejected extends AppError {
  constructor(readonly problems: SurveyProblem[]) {
    super(422, 'invalid_surveys', `the survey results were not imported: ${problems.length} problem(s); nothing was written`, { problem_count: problems.length, problems: problems.slice(0, 1000) })
    this.name = 'SurveysRejected'
  }
}

const REQUIRED = ['subdistrict_code', 'period_start', 'period_end', 'respondents', 'satisfied', 'basic', 'unsatisfied'] as const
const DATE = /^\d{4}-\d{2}-\d{2}$/

function validDate(s: string): boolean {
  if (!DATE.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

/**
 * Reads and checks the CSV (what needs no database).
 * @example readSurveyCsv('subdistrict_code,period_start,period_end,respondents,satisfied,basic,unsatisfied\n110105001,2025-10-01,2025-10-31,200,150,30,20\n').rows.length // 1
 */
export function readSurveyCsv(text: string): { rows: SurveyRow[]; problems: SurveyProblem[] } {
  let t
  try {
    t = parseCsv(text)
  } catch (err) {
    if (err instanceof CsvError) return { rows: [], problems: [{ row: err.line, field: 'file', error: 'invalid_file', reason: err.message }] }
    throw err
  }
  const missing = REQUIRED.filter((c) => !t.header.includes(c))
  if (missing.length) return { rows: [], problems: [{ row: 1, field: 'header', error: 'missing_property', reason: `columns ${missing.join(', ')} are required` }] }
  if (!t.records.length) return { rows: [], problems: [{ row: null, field: 'file', error: 'empty_file', reason: 'no rows after the header' }] }
  const rows: SurveyRow[] = []
  const problems: SurveyProblem[] = []
  const seen = new Map<string, number>()
  t.records.forEach((rec, i) => {
    const row = t.lines[i]
    const get = (c: string): string => (rec[t.header.indexOf(c)] ?? '').trim()
    const before = problems.length
    const bad = (field: string, error: string, reason: string): void => { problems.push({ row, field, error, reason }) }
    const sd = get('subdistrict_code')
    if (!/^\d{9}$/.test(sd)) bad('subdistrict_code', 'invalid_code', 'subdistrict_code is 9 digits')
    const start = get('period_start')
    const end = get('period_end')
    if (!validDate(start)) bad('period_start', 'invalid_date', 'period_start is a date YYYY-MM-DD')
    if (!validDate(end)) bad('period_end', 'invalid_date', 'period_end is a date YYYY-MM-DD')
    if (validDate(start) && validDate(end) && end < start) bad('period_end', 'invalid_period', 'period_end is before period_start')
    const n: Record<string, number> = {}
    for (const f of ['respondents', 'satisfied', 'basic', 'unsatisfied'] as const) {
      const v = Number(get(f))
      if (get(f) === '' || !Number.isInteger(v) || v < 0 || v > 10_000_000) bad(f, 'invalid_number', `${f} is a whole number ≥ 0`)
      n[f] = v
    }
    if (problems.length === before && n.respondents === 0) bad('respondents', 'invalid_number', 'respondents must be more than 0')
    if (problems.length === before && n.satisfied + n.basic + n.unsatisfied > n.respondents) {
      bad('unsatisfied', 'counts_exceed_respondents', `satisfied + basic + unsatisfied = ${n.satisfied + n.basic + n.unsatisfied} > ${n.respondents} respondents`)
    }
    const topic = (t.header.includes('topic') ? get('topic') : '') || '总体'
    if (topic.length > 100) bad('topic', 'invalid_text', 'topic is at most 100 characters')
    const key = `${sd}|${start}|${end}|${topic}`
    if (seen.has(key)) bad('subdistrict_code', 'duplicate_row', `the same subdistrict, period and topic is on row ${seen.get(key)}`)
    else seen.set(key, row)
    if (problems.length > before) return
    const surveyor = t.header.includes('surveyor') ? get('surveyor') || null : null
    rows.push({ row, subdistrict_code: sd, period_start: start, period_end: end, topic, respondents: n.respondents, satisfied: n.satisfied, basic: n.basic, unsatisfied: n.unsatisfied, surveyor })
  })
  return { rows, problems }
}

export interface SurveyImportSummary { import_id: number; rows: number; written: number }

/** Writes checked rows after checking the subdistricts exist; all or nothing. */
export async function importSurveys(db: Database, read: { rows: SurveyRow[]; problems: SurveyProblem[] }, source: string): Promise<SurveyImportSummary> {
  if (read.problems.length) throw new SurveysRejected(read.problems)
  return db.transaction(async (tx) => {
    const known = new Set((await tx.query<{ code: string }>('SELECT code FROM subdistricts WHERE code = ANY($1::text[])', [[...new Set(read.rows.map((r) => r.subdistrict_code))]])).rows.map((r) => r.code))
    const problems = read.rows.filter((r) => !known.has(r.subdistrict_code))
      .map((r): SurveyProblem => ({ row: r.row, field: 'subdistrict_code', error: 'unknown_subdistrict', reason: `no subdistrict ${r.subdistrict_code} in the grid` }))
    if (problems.length) throw new SurveysRejected(problems)
    const id = (await tx.query<{ id: number }>('INSERT INTO survey_imports (source, rows) VALUES ($1, $2) RETURNING id', [source, read.rows.length])).rows[0].id
    const rs = read.rows
    await tx.query(`INSERT INTO survey_results (subdistrict_code, period_start, period_end, topic, respondents, satisfied, basic, unsatisfied, surveyor, import_id)
      SELECT sd, ps::date, pe::date, tp, n, s, b, u, sv, $1
      FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::int[], $10::text[]) AS t(sd, ps, pe, tp, n, s, b, u, sv)
      ON CONFLICT (subdistrict_code, period_start, period_end, topic) DO UPDATE SET respondents = EXCLUDED.respondents, satisfied = EXCLUDED.satisfied,
        basic = EXCLUDED.basic, unsatisfied = EXCLUDED.unsatisfied, surveyor = EXCLUDED.surveyor, import_id = EXCLUDED.import_id`,
    [id, rs.map((r) => r.subdistrict_code), rs.map((r) => r.period_start), rs.map((r) => r.period_end), rs.map((r) => r.topic),
      rs.map((r) => r.respondents), rs.map((r) => r.satisfied), rs.map((r) => r.basic), rs.map((r) => r.unsatisfied), rs.map((r) => r.surveyor)])
    return { import_id: id, rows: read.rows.length, written: rs.length }
  })
}

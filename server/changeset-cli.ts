/**
 * The change-set (grid redraw) commands of server/cli.ts, on the same
 * repository functions the HTTP routes use (server/repositories/changesets.ts,
 * grid-commit.ts, grid-history.ts, grid-repository.ts), so a draft made here
 * is the draft the API and the planner view see, and a commit here is the
 * route's commit — the same transaction, conflict check and revalidation, and
 * whatever that commit tells running servers:
 *   changeset-create --name N [--min-area m²] [--max-area m²]
 *   changeset-add <id> <op.json|->      an operation as JSON, the shape POST /api/changesets/:id/operations takes
 *   changeset-undo <id>                 take back the draft's last operation
 *   changeset-validate <id>
 *   changeset-preview <id> [--out cells.geojson]
 *   changeset-commit <id> [--effective ISO] [--note text]
 *   changesets [--status draft|committed|discarded]
 *   grid-versions
 *   grid-diff <from> <to> [--out diff.geojson]
 * Results go to stdout, progress and refusals to stderr. Exit codes: 0 done,
 * 1 refused (an operation, an invalid draft, a conflict: the draft stays as
 * it was), 2 usage.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { Database } from './db/types.ts'
import { AppError } from './errors.ts'
import { progressBar } from './progress.ts'
import { ChangesetRepository, type ChangesetStatus } from './repositories/changesets.ts'
import { commitChangeset, previewChangeset } from './repositories/grid-commit.ts'
import { GridHistoryRepository } from './repositories/grid-history.ts'
import { GridRepository } from './repositories/grid-repository.ts'
import { checkOperation } from './routes/changeset-schemas.ts'
import { summarise } from '../grids/redraw/changeset.ts'
import type { ChangeProblem } from '../grids/redraw/validate.ts'


const STATUSES: readonly ChangesetStatus[] = ['draft', 'committed', 'discarded']

const count = (list: string[], what: string): string => `${list.length} ${what}${list.length ? ` (${list.slice(0, 6).join(', ')}${list.length > 6 ? ', …' : ''})` : ''}`

function printProblems(problems: ChangeProblem[]): void {
  for (const p of problems.slice(0, 50)) {
    console.error(`  ${p.operation === null ? '' : `operation ${p.operation} `}${p.cell ?? '-'} ${p.field}: ${p.error}: ${p.reason}`)
  }
  if (problems.length > 50) console.error(`  … and ${problems.length - 50} more`)
}

/** A positive whole number from an argument, or null. */
const whole = (s: string | undefined): number | null => (s !== undefined && /^[1-9][0-9]*$/.test(s) ? Number(s) : null)

/** Runs one change-set command on an open database; returns the exit code. */
export async function changesetCommand(db: Database, command: string, args: string[], usage: (why: string) => number): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { name: { type: 'string' }, 'min-area': { type: 'string' }, 'max-area': { type: 'string' }, out: { type: 'string' }, effective: { type: 'string' }, note: { type: 'string' }, status: { type: 'string' } },
  })
  const repo = new ChangesetRepository(db)
  try {
    switch (command) {
      case 'changeset-create': {
        if (!values.name) return usage('changeset-create needs --name')
        const area = (s: string | undefined): number | undefined | null => (s === undefined ? undefined : Number.isFinite(Number(s)) && Number(s) >= 0 ? Number(s) : null)
        const [minAreaM2, maxAreaM2] = [area(values['min-area']), area(values['max-area'])]
        if (minAreaM2 === null || maxAreaM2 === null) return usage('--min-area and --max-area take square metres')
        const cs = await repo.create({ title: values.name, authorId: null, minAreaM2, maxAreaM2 })
        console.log(`change set ${cs.id} (draft): ${cs.title} — on grid version ${cs.base_version ?? '-'}, cells ${cs.min_area_m2}…${cs.max_area_m2} m²`)
        return 0
      }
      case 'changeset-add': {
        const id = whole(positionals[0])
        const file = positionals[1]
        if (id === null || !file) return usage('changeset-add needs a change set id and an operation file (- for stdin)')
        let json: unknown
        try {
          json = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'))
        } catch (err) {
          console.error(`${file}: not a JSON operation: ${err instanceof Error ? err.message : String(err)}`)
          return 1
        }
        const checked = checkOperation(json)
        if ('errors' in checked) {
          console.error(`operation refused: validation_failed: it does not have the shape of an operation; the draft is unchanged`)
          for (const e of checked.errors) console.error(`  ${e}`)
          return 1
        }
        const progress = progressBar('add')
        progress(checked.op.type, 0, 1)
        const r = await repo.addOperation(id, checked.op).finally(() => progress.end())
        const mine = r.result.upserted.map((c) => c.code)
        console.log(`operation ${r.seq} (${checked.op.type}) added to change set ${id}: removed ${count(r.result.removed, 'cell(s)')}, wrote ${count(mine, 'cell(s)')}`)
        console.log(`draft now: ${count(r.summary.retired, 'retired')}; ${count(r.summary.reshaped, 'reshaped')}; ${count(r.summary.added, 'added')}`)
        return 0
      }
      case 'changeset-undo': {
        const id = whole(positionals[0])
        if (id === null) return usage('changeset-undo needs a change set id')
        const r = await repo.undo(id)
        console.log(r.removed_seq === null ? `change set ${id} has no operation to take back` : `took back operation ${r.removed_seq} of change set ${id}`)
        return 0
      }
      case 'changeset-validate': {
        const id = whole(positionals[0])
        if (id === null) return usage('changeset-validate needs a change set id')
        const progress = progressBar('validate')
        progress('validate', 0, 1)
        const { problems, state } = await repo.validate(id).finally(() => progress.end())
        const s = summarise(state)
        if (!problems.length) {
          console.log(`change set ${id} is valid: ${count(s.retired, 'retired')}; ${count(s.reshaped, 'reshaped')}; ${count(s.added, 'added')}`)
          return 0
        }
        console.error(`change set ${id} does not validate: ${problems.length} problem(s)`)
        printProblems(problems)
        return 1
      }
      case 'changeset-preview': {
        const id = whole(positionals[0])
        if (id === null) return usage('changeset-preview needs a change set id')
        const progress = progressBar('preview')
        progress('validate and locate', 0, 1)
        const p = await previewChangeset(db, id).finally(() => progress.end())
        console.log(`change set ${id}: ${count(p.retired, 'retired')}; ${count(p.reshaped, 'reshaped')}; ${count(p.added, 'added')}`)
        const m2 = (v: number | null): string => (v === null ? '–' : `${v.toLocaleString('en')} m²`)
        for (const a of p.areas.slice(0, 40)) console.log(`  ${a.code}  ${m2(a.before_m2)} → ${m2(a.after_m2)}`)
        if (p.areas.length > 40) console.log(`  … and ${p.areas.length - 40} more cells`)
        const facilities = p.moves.filter((m) => m.kind === 'facility').length
        console.log(`moves: ${facilities} facilities, ${p.moves.length - facilities} open cases`)
        if (values.out) {
          writeFileSync(values.out, JSON.stringify(p.cells))
          console.error(`wrote ${values.out} (${p.cells.features.length} cells before and after)`)
        }
        if (p.problems.length) {
          console.error(`${p.problems.length} problem(s): the draft would not commit`)
          printProblems(p.problems)
          return 1
        }
        return 0
      }
      case 'changeset-commit': {
        const id = whole(positionals[0])
        if (id === null) return usage('changeset-commit needs a change set id')
        const effectiveAt = values.effective === undefined ? undefined : new Date(values.effective)
        if (effectiveAt && Number.isNaN(effectiveAt.getTime())) return usage('--effective takes an ISO 8601 time')
        const progress = progressBar('commit')
        progress('commit', 0, 1)
        const s = await commitChangeset(db, id, { effectiveAt, note: values.note }).finally(() => progress.end())
        console.log(`committed change set ${id} as grid version ${s.version}, effective ${s.effective_at}: ${count(s.retired, 'retired')}; ${count(s.reshaped, 'reshaped')}; ${count(s.added, 'added')}; ${s.facilities_moved} facilities and ${s.cases_moved} open cases moved (${s.ms} ms)`)
        for (const [from, to] of Object.entries(s.renumbered)) console.log(`  renumbered ${from} → ${to} (taken meanwhile)`)
        return 0
      }
      case 'changesets': {
        const status = values.status as ChangesetStatus | undefined
        if (status !== undefined && !STATUSES.includes(status)) return usage(`--status is one of ${STATUSES.join(', ')}`)
        const list = await repo.list(status)
        for (const c of list) {
          console.log(`${String(c.id).padStart(5)}  ${c.status.padEnd(9)}  ${String(c.operations).padStart(3)} op(s)  base v${c.base_version ?? '-'}${c.committed_version ? ` → v${c.committed_version}` : ''}  ${c.updated_at}  ${c.title}`)
        }
        if (!list.length) console.error('no change sets')
        return 0
      }
      case 'grid-versions': {
        for (const v of await new GridRepository(db).versions()) {
          const at = (d: unknown): string => (d instanceof Date ? d.toISOString() : String(d))
          console.log(`v${String(v.id).padEnd(5)} ${String(v.cell_count).padStart(6)} cells  effective ${at(v.effective_at)}  ${v.source}${v.note ? `: ${v.note}` : ''}`)
        }
        return 0
      }
      case 'grid-diff': {
        const [from, to] = [whole(positionals[0]), whole(positionals[1])]
        if (from === null || to === null) return usage('grid-diff needs two grid versions')
        const body = await new GridHistoryRepository(db).diffOf(from, to)
        const changes = new Map<string, number>()
        for (const f of (JSON.parse(body) as { features: { properties: { change: string } }[] }).features) changes.set(f.properties.change, (changes.get(f.properties.change) ?? 0) + 1)
        const summary = ['removed', 'added', 'reshaped', 'reshaped_before'].map((k) => `${changes.get(k) ?? 0} ${k}`).join(', ')
        if (values.out) {
          writeFileSync(values.out, body)
          console.log(`wrote ${values.out}: v${from} → v${to}: ${summary}`)
        } else {
          process.stdout.write(body + '\n')
          console.error(`v${from} → v${to}: ${summary}`)
        }
        return 0
      }
      default:
        return usage(`unknown command ${command}`)
    }
  } catch (err) {
    if (!(err instanceof AppError)) throw err
    // The API's refusals (404, 409 conflict, 422 refused operation or invalid draft): nothing was written.
    console.error(`${err.message} [${err.code}]`)
    const details = err.details as { problems?: ChangeProblem[]; cells?: { code: string; draft_version: number; active_version: number | null }[]; field?: string } | undefined
    if (details?.field) console.error(`  field ${details.field}`)
    if (details?.problems) printProblems(details.problems)
    for (const c of details?.cells ?? []) console.error(`  cell ${c.code}: the draft read version ${c.draft_version}, now ${c.active_version === null ? 'retired' : `version ${c.active_version}`}`)
    return 1
  }
}

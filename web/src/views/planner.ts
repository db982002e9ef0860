/**
 * The planner's view (规划): redraws the grid through a draft change set
 * (server/routes/changesets.ts). Click a cell to select it; split it by a line
 * drawn point by point on the map (double-click or 完成 sends it), or merge it
 * with a second clicked cell of its community, or regenerate the selected
 * cell's community: all its cells replaced by squares or H3 hexagons of a
 * target area (by default the community's mean cell area, rounded). Each operation goes to the
 * planner's draft (opened on the first one); the panel lists the draft's
 * operations, takes back the last, validates (problems with their codes and
 * fields as the API gives them, points of a problem on the map), previews
 * (cells that change, areas before and after, facilities and open cases that
 * move; the new cells highlighted on the map) and commits — a 409 lists the
 * cells another commit changed. After a commit the grid tiles are read again.
 */
import { GeoJsonLayer, PathLayer, ScatterplotLayer } from '@deck.gl/layers'
import type { Layer } from '@deck.gl/core'
import type { Position } from 'geojson'
import { ApiError } from '../api.ts'
import type { AppContext, ViewModule } from '../context.ts'
import type { MessageKey } from '../i18n.ts'
import { refreshGridTiles } from '../layers/cells.ts'
import { rgba } from '../layers/palette.ts'
import { bbox, extend, type BBox } from '../lib/geometry.ts'
import { clickDrawing } from '../map/click-drawing.ts'
import type {
  CellFeature, ChangesetDetail, CommitResult, ConflictDetails, LonLat, Preview, PreviewCellProperties, RedrawOp, RedrawProblem, RegenerateShape, Validation,
} from '../types.ts'
import { h } from '../ui/dom.ts'

export const PLANNER_SLOT = 'planner'
/** Roles that may write change sets (the API's `requireRole('planner', 'admin')`). */
const WRITERS = ['planner', 'admin']

const LINE = '#c2185b'
const ADDED = '#1565c0'
const RESHAPED = '#6a1b9a'
const PROBLEM = '#d32f2f'

/** Target cell area bounds of regenerate, m² (the operation schema's, server/routes/changeset-schemas.ts). */
const REGEN_MIN_M2 = 500
const REGEN_MAX_M2 = 5_000_000
/** The default target (the community's mean cell area) is rounded to this, m². */
const REGEN_ROUND_M2 = 100

type Mode = 'select' | 'split' | 'merge' | 'regenerate'

/** The regenerate form: the community, its cell count and mean cell area once read, the target as typed, the shape. */
interface RegenForm {
  community: string
  name: string
  loading: boolean
  cells: number | null
  mean: number | null
  area: string
  shape: RegenerateShape
}

/** The community's mean cell area rounded to REGEN_ROUND_M2 and kept within the operation's bounds. */
const defaultTarget = (mean: number): number =>
  Math.min(REGEN_MAX_M2, Math.max(REGEN_MIN_M2, Math.round(mean / REGEN_ROUND_M2) * REGEN_ROUND_M2))

/** The typed target as a number of m², or null when it is not a number within the bounds. */
function targetArea(text: string): number | null {
  const v = Number(text.trim())
  return text.trim() !== '' && Number.isFinite(v) && v >= REGEN_MIN_M2 && v <= REGEN_MAX_M2 ? v : null
}

/** An error as the API gave it: code, the field and operation it names, the message. */
interface Refusal { code: string; message: string; field: string | null; operation: number | null; cell: string | null }

function refusal(err: unknown): Refusal {
  if (err instanceof ApiError) {
    const d = (typeof err.details === 'object' && err.details !== null ? err.details : {}) as Record<string, unknown>
    return {
      code: err.code,
      message: err.message,
      field: typeof d.field === 'string' ? d.field : null,
      operation: typeof d.operation === 'number' ? d.operation : null,
      cell: typeof d.cell === 'string' ? d.cell : null,
    }
  }
  return { code: 'error', message: err instanceof Error ? err.message : String(err), field: null, operation: null, cell: null }
}

const isConflict = (d: unknown): d is ConflictDetails =>
  typeof d === 'object' && d !== null && Array.isArray((d as { cells?: unknown }).cells)
const hasProblems = (d: unknown): d is { problems: RedrawProblem[] } =>
  typeof d === 'object' && d !== null && Array.isArray((d as { problems?: unknown }).problems)

export function plannerView(ctx: AppContext): ViewModule {
  const { i18n, api, map, selection, auth, deck } = ctx
  const t = i18n.t.bind(i18n)
  let panel: HTMLElement | undefined
  let mode: Mode = 'select'
  let second: CellFeature | null = null
  let regen: RegenForm | null = null
  let draft: ChangesetDetail | null = null
  let validation: Validation | null = null
  let preview: Preview | null = null
  let conflicts: ConflictDetails['cells'] | null = null
  let committed: { result: CommitResult; cells: CellFeature[] } | null = null
  let error: Refusal | null = null
  let info: { key: MessageKey; params?: Record<string, string | number> } | null = null
  let busy = false
  let request: AbortController | undefined

  deck.reserve(PLANNER_SLOT)
  // Split mode: clicks add the points of the line, a double-click (or 完成) sends it.
  const drawing = clickDrawing(map, { id: 'planner-split', color: LINE, ring: false, onFinish: () => void finishLine(), onChange: () => render() })

  const canWrite = (): boolean => auth.token !== null && WRITERS.includes(auth.me?.role ?? '')

  // ---- the map ----

  function draw(): void {
    if (!panel) {
      deck.set(PLANNER_SLOT, null)
      return
    }
    const layers: Layer[] = []
    if (preview) {
      const after = preview.cells.features.filter((f) => f.properties.side === 'after')
      const before = preview.cells.features.filter((f) => f.properties.side === 'before')
      layers.push(new GeoJsonLayer<PreviewCellProperties>({
        id: 'planner-preview-after',
        data: after,
        filled: true,
        stroked: true,
        getFillColor: (f) => rgba(f.properties.change === 'added' ? ADDED : RESHAPED, 90),
        getLineColor: (f) => rgba(f.properties.change === 'added' ? ADDED : RESHAPED),
        getLineWidth: 3,
        lineWidthUnits: 'pixels',
      }))
      layers.push(new GeoJsonLayer<PreviewCellProperties>({
        id: 'planner-preview-before',
        data: before,
        filled: false,
        stroked: true,
        getLineColor: rgba('#37474f', 200),
        getLineWidth: 1.5,
        lineWidthUnits: 'pixels',
      }))
    }
    if (committed) {
      layers.push(new GeoJsonLayer<CellFeature['properties']>({
        id: 'planner-committed',
        data: committed.cells,
        filled: true,
        stroked: true,
        getFillColor: rgba(ADDED, 60),
        getLineColor: rgba(ADDED),
        getLineWidth: 3,
        lineWidthUnits: 'pixels',
      }))
    }
    if (second) {
      layers.push(new GeoJsonLayer<CellFeature['properties']>({
        id: 'planner-second',
        data: [second],
        filled: true,
        stroked: true,
        getFillColor: rgba(RESHAPED, 90),
        getLineColor: rgba(RESHAPED),
        getLineWidth: 3,
        lineWidthUnits: 'pixels',
      }))
    }
    // Lines (and a split's polygon, from the API or the CLI) already in the draft, then the line being drawn.
    const path = (ps: Position[]): LonLat[] => ps.map(([x, y]) => [x, y])
    const drafted = (draft?.operations ?? []).flatMap(({ op }): LonLat[][] => {
      if (op.type === 'split') return op.line ? [path(op.line.coordinates)] : op.polygon ? [path(op.polygon.coordinates[0])] : []
      return op.type === 'move_boundary' ? [path(op.line.coordinates)] : []
    })
    if (drafted.length) {
      layers.push(new PathLayer<LonLat[]>({
        id: 'planner-drafted-lines',
        data: drafted,
        getPath: (p) => p,
        getColor: rgba('#37474f', 200),
        getWidth: 2,
        widthUnits: 'pixels',
      }))
    }
    layers.push(...drawing.layers())
    const problems = [...(validation?.problems ?? []), ...(preview?.problems ?? [])].filter((p) => p.at && p.at.length >= 2)
    if (problems.length) {
      layers.push(new ScatterplotLayer<RedrawProblem>({
        id: 'planner-problems',
        data: problems,
        getPosition: (p) => [p.at?.[0] ?? 0, p.at?.[1] ?? 0],
        getRadius: 8,
        radiusUnits: 'pixels',
        getFillColor: rgba(PROBLEM, 180),
        getLineColor: [255, 255, 255, 255],
        stroked: true,
        getLineWidth: 2,
        lineWidthUnits: 'pixels',
      }))
    }
    deck.set(PLANNER_SLOT, layers)
  }

  function setMode(m: Mode): void {
    mode = m
    second = null
    regen = null
    drawing.setActive(m === 'split')
    if (m === 'merge') map.getCanvas().style.cursor = 'crosshair'
  }

  /** The cell at a point: the geocoder's answer, then its geometry. */
  async function cellAt(lng: number, lat: number, signal: AbortSignal): Promise<CellFeature> {
    const r = await api.geocode(lng, lat, 'wgs84', signal)
    return api.cell(r.cell, signal)
  }

  async function pick(lng: number, lat: number): Promise<void> {
    request?.abort()
    const ac = new AbortController()
    request = ac
    error = null
    info = null
    try {
      const cell = await cellAt(lng, lat, ac.signal)
      if (ac.signal.aborted) return
      if (mode === 'merge') {
        const first = selection.get()
        if (first && cell.properties.code === first.properties.code) return
        second = cell
      } else {
        selection.set(cell)
        committed = null
        // Another community clicked while the form is open: the form is for that one now.
        if (mode === 'regenerate' && regen?.community !== cell.properties.community_code) openRegenerate(cell)
      }
    } catch (err) {
      if (ac.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return
      error = refusal(err)
    } finally {
      if (request === ac) request = undefined
    }
    render()
  }

  // ---- the draft ----

  async function loadDraft(): Promise<void> {
    const token = auth.token
    if (!token || !canWrite()) {
      draft = null
      render()
      return
    }
    try {
      const mine = (await api.changesets(token, 'draft')).find((c) => c.author_id === auth.me?.id)
      draft = mine ? await api.changeset(token, mine.id) : null
    } catch (err) {
      error = refusal(err)
    }
    render()
  }

  /** Sends one operation (opening the draft first if there is none); a refusal leaves the draft as it was. */
  async function send(op: RedrawOp): Promise<boolean> {
    const token = auth.token
    if (!token) return false
    busy = true
    error = null
    info = null
    render()
    try {
      const id = draft?.changeset.id ?? (await api.createChangeset(token, t('planner.draftTitle', { date: new Date().toLocaleString(i18n.lang === 'zh' ? 'zh-CN' : 'en') }))).id
      try {
        const r = await api.addOperation(token, id, op)
        info = { key: 'planner.added', params: { seq: r.seq, added: r.upserted.join(', ') || '–' } }
        return true
      } finally {
        draft = await api.changeset(token, id)
        validation = null
        preview = null
        conflicts = null
        committed = null
      }
    } catch (err) {
      error = refusal(err)
      return false
    } finally {
      busy = false
      render()
    }
  }

  async function finishLine(): Promise<void> {
    const cell = selection.get()
    const line = drawing.points
    if (!cell || line.length < 2 || busy) return
    const ok = await send({ type: 'split', cell: cell.properties.code, line: { type: 'LineString', coordinates: line } })
    drawing.clear()
    if (ok) {
      selection.set(null)
      setMode('select')
    }
    render()
  }

  /**
   * Opens the regenerate form for the cell's community and reads the
   * community's area and cell count (GET /api/communities of its subdistrict)
   * for the default target: its mean cell area, rounded.
   */
  function openRegenerate(cell: CellFeature): void {
    const p = cell.properties
    const form: RegenForm = { community: p.community_code, name: p.community_name, loading: true, cells: null, mean: null, area: '', shape: regen?.shape ?? 'square' }
    setMode('regenerate')
    regen = form
    render()
    void api.communities(undefined, p.subdistrict_code).then((rows) => {
      const row = rows.find((r) => r.code === form.community)
      form.cells = row?.cells ?? null
      // The community's area over its cells; without them, the selected cell's area.
      form.mean = row && row.cells > 0 && row.area_m2 !== null ? row.area_m2 / row.cells : p.area_m2
    }, (err: unknown) => {
      if (regen === form) error = refusal(err)
    }).finally(() => {
      form.loading = false
      if (form.area === '') form.area = String(defaultTarget(form.mean ?? p.area_m2))
      if (regen === form) render()
    })
  }

  async function regenerate(): Promise<void> {
    const form = regen
    const target = form ? targetArea(form.area) : null
    if (!form || target === null || busy) return
    const ok = await send({ type: 'regenerate', community: form.community, target_area_m2: target, shape: form.shape })
    if (ok) {
      selection.set(null)
      setMode('select')
    }
    render()
  }

  async function mergeWithSecond(): Promise<void> {
    const cell = selection.get()
    if (!cell || !second || busy) return
    const ok = await send({ type: 'merge', cells: [cell.properties.code, second.properties.code] })
    if (ok) {
      selection.set(null)
      setMode('select')
    }
    render()
  }

  /** Runs one request on the draft with the busy flag and the error line. */
  async function onDraft<T>(fn: (token: string, id: number) => Promise<T>): Promise<T | undefined> {
    const token = auth.token
    if (!token || !draft || busy) return undefined
    busy = true
    error = null
    info = null
    render()
    try {
      return await fn(token, draft.changeset.id)
    } catch (err) {
      error = refusal(err)
      if (err instanceof ApiError && err.code === 'changeset_conflict' && isConflict(err.details)) {
        conflicts = err.details.cells
        // Another commit changed the grid: the map shows it as it is now.
        refreshGridTiles(ctx, Math.max(0, ...conflicts.map((c) => c.active_version ?? 0)) || Date.now())
      }
      if (err instanceof ApiError && err.code === 'changeset_invalid' && hasProblems(err.details)) validation = { valid: false, problems: err.details.problems, summary: draft.summary }
      return undefined
    } finally {
      busy = false
      render()
    }
  }

  const undo = (): Promise<void> => onDraft(async (token, id) => {
    const r = await api.undoOperation(token, id)
    draft = await api.changeset(token, id)
    validation = null
    preview = null
    conflicts = null
    info = r.removed_seq === null ? { key: 'planner.nothingToUndo' } : { key: 'planner.undone', params: { seq: r.removed_seq } }
  })

  const validate = (): Promise<void> => onDraft(async (token, id) => {
    validation = await api.validateChangeset(token, id)
  })

  const showPreview = (): Promise<void> => onDraft(async (token, id) => {
    preview = await api.previewChangeset(token, id)
    const b: BBox = [Infinity, Infinity, -Infinity, -Infinity]
    for (const f of preview.cells.features) {
      const fb = bbox(f.geometry)
      extend(b, [fb[0], fb[1]])
      extend(b, [fb[2], fb[3]])
    }
    if (Number.isFinite(b[0])) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { maxZoom: 17, padding: 80, duration: 0 })
  })

  const commit = (): Promise<void> => onDraft(async (token, id) => {
    conflicts = null
    const result = await api.commitChangeset(token, id)
    refreshGridTiles(ctx, result.version)
    const cells = await Promise.all(result.added.slice(0, 50).map((c) => api.cell(c).catch(() => null)))
    committed = { result, cells: cells.filter((c): c is CellFeature => c !== null) }
    draft = null
    validation = null
    preview = null
    selection.set(null)
    setMode('select')
  })

  const discard = (): Promise<void> => onDraft(async (token, id) => {
    await api.discardChangeset(token, id)
    draft = null
    validation = null
    preview = null
    conflicts = null
    info = { key: 'planner.discarded', params: { id } }
  })

  // ---- the panel ----

  const button = (testid: string, key: MessageKey, onClick: () => void, opts: { primary?: boolean; disabled?: boolean } = {}): HTMLButtonElement => {
    const b = h('button', { type: 'button', class: opts.primary ? 'primary' : '', 'data-testid': testid, disabled: busy || opts.disabled === true }, t(key))
    b.addEventListener('click', onClick)
    return b
  }
  const m2 = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${i18n.format(Math.round(v))} ${t('units.m2')}`)
  const codes = (list: string[]): HTMLElement => h('span', { class: 'codes' }, ...list.flatMap((c, i) => [i ? ', ' : '', h('code', {}, c)]))

  function opLabel(op: RedrawOp): string {
    switch (op.type) {
      // A split by a polygon comes from the API or the CLI: its ring is closed, so the corners are one fewer than its points.
      case 'split': return op.line
        ? t('planner.op.split', { cell: op.cell, points: op.line.coordinates.length })
        : t('planner.op.splitPolygon', { cell: op.cell, points: Math.max(0, (op.polygon?.coordinates[0]?.length ?? 1) - 1) })
      case 'merge': return t('planner.op.merge', { cells: op.cells.join(' + ') })
      case 'move_boundary': return t('planner.op.move_boundary', { cells: op.cells.join(' / ') })
      case 'reassign': return t('planner.op.reassign', { cell: op.cell, community: op.community })
      case 'regenerate': return t('planner.op.regenerate', { community: op.community, area: op.target_area_m2, shape: t(op.shape === 'h3' ? 'planner.shape.h3' : 'planner.shape.square') })
    }
  }

  function problemList(problems: RedrawProblem[]): HTMLElement {
    return h('ul', { class: 'problems', 'data-testid': 'planner-problems' }, ...problems.map((p) => h('li', { 'data-testid': 'planner-problem', 'data-error': p.error },
      h('code', { class: 'error-code' }, p.error), ' ',
      h('span', { class: 'role' }, [p.operation !== null ? t('planner.operationNo', { seq: p.operation }) : '', p.cell ?? '', p.field].filter(Boolean).join(' · ')),
      h('br', {}), p.reason,
      p.area_m2 !== undefined ? h('span', { class: 'role' }, ` (${m2(p.area_m2)})`) : null)))
  }

  function selectedView(): HTMLElement {
    const cell = selection.get()
    if (!cell) return h('p', { class: 'note', 'data-testid': 'planner-pick' }, t('planner.pick'))
    const p = cell.properties
    const tools: HTMLElement[] = []
    if (mode === 'select') {
      tools.push(
        button('planner-split', 'planner.split', () => { setMode('split'); render() }, { primary: true }),
        button('planner-merge', 'planner.merge', () => { setMode('merge'); render() }),
        button('planner-regenerate', 'planner.regenerate', () => openRegenerate(cell)),
        button('planner-deselect', 'planner.deselect', () => { selection.set(null); render() }))
    } else if (mode === 'split') {
      tools.push(
        button('planner-finish', 'planner.finish', () => void finishLine(), { primary: true, disabled: drawing.points.length < 2 }),
        button('planner-undo-point', 'planner.undoPoint', () => drawing.undo(), { disabled: !drawing.points.length }),
        button('planner-cancel', 'planner.cancel', () => { setMode('select'); render() }))
    } else if (mode === 'merge') {
      tools.push(
        button('planner-merge-send', 'planner.mergeSend', () => void mergeWithSecond(), { primary: true, disabled: !second }),
        button('planner-cancel', 'planner.cancel', () => { setMode('select'); render() }))
    } else {
      tools.push(
        button('planner-regen-send', 'planner.regenSend', () => void regenerate(), { primary: true, disabled: !regen || targetArea(regen.area) === null }),
        button('planner-cancel', 'planner.cancel', () => { setMode('select'); render() }))
    }
    return h('div', { class: 'result', 'data-testid': 'planner-selected' },
      h('dl', {},
        h('dt', {}, t('result.cell')), h('dd', {}, h('code', { class: 'cell-code', 'data-testid': 'planner-cell' }, p.code)),
        h('dt', {}, t('result.community')), h('dd', {}, p.community_name, ' ', h('small', {}, p.community_code)),
        h('dt', {}, t('result.area')), h('dd', {}, m2(p.area_m2)),
        second ? h('dt', {}, t('planner.second')) : null,
        second ? h('dd', {}, h('code', { 'data-testid': 'planner-second' }, second.properties.code), ' ', h('small', {}, second.properties.community_name)) : null),
      mode === 'split' ? h('p', { class: 'note', 'data-testid': 'planner-drawing' }, t('planner.drawHint', { points: drawing.points.length })) : null,
      mode === 'merge' ? h('p', { class: 'note' }, t('planner.mergeHint')) : null,
      mode === 'regenerate' && regen ? regenView(regen) : null,
      h('div', { class: 'buttons' }, ...tools))
  }

  /** The target area (the community's mean cell area, rounded, until the planner types another) and the shape. */
  function regenView(form: RegenForm): HTMLElement {
    const outOfRange = (): boolean => form.area !== '' && targetArea(form.area) === null
    const range = h('p', { class: 'note error', 'data-testid': 'planner-regen-range', hidden: !outOfRange() },
      t('planner.regenRange', { min: i18n.format(REGEN_MIN_M2), max: i18n.format(REGEN_MAX_M2) }))
    const area = h('input', {
      type: 'number', min: REGEN_MIN_M2, max: REGEN_MAX_M2, step: REGEN_ROUND_M2, inputmode: 'numeric', required: true,
      value: form.area, 'data-testid': 'planner-regen-area',
    })
    // Typing does not redraw the panel (the input keeps its focus): it only enables the button and shows the bounds.
    area.addEventListener('input', () => {
      form.area = area.value
      const b = panel?.querySelector<HTMLButtonElement>('[data-testid="planner-regen-send"]')
      if (b) b.disabled = busy || targetArea(form.area) === null
      range.hidden = !outOfRange()
    })
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void regenerate()
    })
    const shape = h('select', { 'data-testid': 'planner-regen-shape' },
      ...(['square', 'h3'] as const).map((s) => h('option', { value: s, selected: s === form.shape }, t(s === 'h3' ? 'planner.shape.h3' : 'planner.shape.square'))))
    shape.addEventListener('change', () => { form.shape = shape.value === 'h3' ? 'h3' : 'square' })
    const hint = form.loading
      ? t('planner.regenLoading')
      : form.mean !== null ? t('planner.regenHint', { community: `${form.name} ${form.community}`, cells: form.cells ?? '–', mean: m2(form.mean) }) : null
    return h('div', { class: 'locate-form regen', 'data-testid': 'planner-regen', 'data-community': form.community, 'data-mean': form.mean === null ? '' : Math.round(form.mean) },
      hint ? h('p', { class: 'note', 'data-testid': 'planner-regen-hint' }, hint) : null,
      h('label', {}, t('planner.regenArea'), area),
      h('label', {}, t('planner.regenShape'), shape),
      range)
  }

  function draftView(): HTMLElement {
    if (!draft) return h('p', { class: 'note', 'data-testid': 'planner-no-draft' }, t('planner.noDraft'))
    const d = draft
    const s = d.summary
    return h('section', { class: 'draft', 'data-testid': 'planner-draft', 'data-changeset': d.changeset.id, 'data-operations': d.operations.length },
      h('h3', {}, t('planner.draft', { id: d.changeset.id })),
      d.operations.length
        ? h('ol', { class: 'ops', 'data-testid': 'planner-ops' }, ...d.operations.map((o) => h('li', { 'data-testid': 'planner-op', 'data-seq': o.seq },
          opLabel(o.op), o.upserted.length ? h('span', { class: 'role' }, ' → ', codes(o.upserted)) : null)))
        : h('p', { class: 'note' }, t('planner.noOps')),
      h('p', { class: 'note', 'data-testid': 'planner-summary' }, t('planner.summary', { retired: s.retired.length, reshaped: s.reshaped.length, added: s.added.length })),
      h('div', { class: 'buttons wrap' },
        button('planner-undo', 'planner.undo', () => void undo(), { disabled: !d.operations.length }),
        button('planner-validate', 'planner.validate', () => void validate(), { disabled: !d.operations.length }),
        button('planner-preview', 'planner.preview', () => void showPreview(), { disabled: !d.operations.length }),
        button('planner-commit', 'planner.commit', () => void commit(), { primary: true, disabled: !d.operations.length }),
        button('planner-discard', 'planner.discard', () => void discard())))
  }

  function validationView(): HTMLElement | null {
    if (!validation) return null
    return h('section', { 'data-testid': 'planner-validation', 'data-valid': String(validation.valid) },
      h('h3', {}, t('planner.validation')),
      validation.valid ? h('p', { class: 'note ok', 'data-testid': 'planner-valid' }, t('planner.valid')) : problemList(validation.problems))
  }

  function previewView(): HTMLElement | null {
    if (!preview) return null
    const p = preview
    return h('section', { 'data-testid': 'planner-previewed' },
      h('h3', {}, t('planner.previewTitle')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('planner.retired')), h('dd', { 'data-testid': 'preview-retired' }, codes(p.retired)),
        h('dt', {}, t('planner.added')), h('dd', { 'data-testid': 'preview-added', 'data-count': p.added.length }, codes(p.added)),
        p.reshaped.length ? h('dt', {}, t('planner.reshaped')) : null,
        p.reshaped.length ? h('dd', {}, codes(p.reshaped)) : null),
      h('table', { class: 'areas', 'data-testid': 'preview-areas' },
        h('thead', {}, h('tr', {}, h('th', {}, t('result.cell')), h('th', {}, t('planner.before')), h('th', {}, t('planner.after')))),
        h('tbody', {}, ...p.areas.map((a) => h('tr', { 'data-code': a.code }, h('td', {}, h('code', {}, a.code)), h('td', {}, m2(a.before_m2)), h('td', {}, m2(a.after_m2)))))),
      h('h3', {}, t('planner.moves', { facilities: p.moves.filter((m) => m.kind === 'facility').length, cases: p.moves.filter((m) => m.kind === 'case').length })),
      p.moves.length
        ? h('ul', { class: 'moves', 'data-testid': 'preview-moves' }, ...p.moves.slice(0, 100).map((m) => h('li', {},
          t(m.kind === 'case' ? 'planner.case' : 'planner.facility', { id: m.id }), ' ', h('code', {}, m.from_cell ?? '–'), ' → ', h('code', {}, m.to_cell ?? '–'))))
        : h('p', { class: 'note' }, t('planner.noMoves')),
      p.problems.length ? problemList(p.problems) : null)
  }

  function outcomeView(): HTMLElement | null {
    if (conflicts) {
      return h('section', { 'data-testid': 'planner-conflicts' },
        h('h3', {}, t('planner.conflicts')),
        h('ul', { class: 'problems' }, ...conflicts.map((c) => h('li', { 'data-code': c.code },
          h('code', {}, c.code), ' ', h('span', { class: 'role' }, t('planner.conflict', { draft: c.draft_version, active: c.active_version === null ? t('planner.retiredNow') : c.active_version }))))),
        h('p', { class: 'note' }, t('planner.conflictHint')))
    }
    if (committed) {
      const r = committed.result
      return h('section', { 'data-testid': 'planner-committed', 'data-version': r.version },
        h('h3', {}, t('planner.committed', { version: r.version })),
        h('dl', { class: 'facts' },
          h('dt', {}, t('planner.retired')), h('dd', {}, codes(r.retired)),
          h('dt', {}, t('planner.added')), h('dd', { 'data-testid': 'committed-added' }, codes(r.added))),
        h('p', { class: 'note' }, t('planner.movedCount', { facilities: r.facilities_moved, cases: r.cases_moved })))
    }
    return null
  }

  function render(): void {
    draw()
    if (!panel) return
    const head = [h('h2', {}, t('planner.title')), h('p', { class: 'hint' }, t('planner.hint'))]
    if (!auth.token) {
      panel.replaceChildren(...head, h('p', { class: 'note', 'data-testid': 'planner-signin' }, t('planner.signIn')))
      return
    }
    if (!canWrite()) {
      panel.replaceChildren(...head, h('p', { class: 'note', 'data-testid': 'planner-signin' }, t('planner.notAllowed', { role: auth.me?.role_name ?? '' })))
      return
    }
    const message = error
      ? h('div', { class: 'note error', role: 'alert', 'data-testid': 'planner-error', 'data-code': error.code },
        t('planner.refused'), ' ', h('code', { class: 'error-code', 'data-testid': 'planner-error-code' }, error.code),
        error.field ? h('span', { class: 'role', 'data-testid': 'planner-error-field' }, ` ${error.field}`) : null,
        h('br', {}), error.message)
      : info ? h('p', { class: 'note', role: 'status', 'data-testid': 'planner-info' }, t(info.key, info.params))
        : busy ? h('p', { class: 'note' }, t('planner.working')) : null
    panel.replaceChildren(...head, selectedView(), h('div', { 'aria-live': 'polite', 'data-testid': 'planner-message' }, message),
      draftView(), validationView() ?? '', previewView() ?? '', outcomeView() ?? '')
  }

  auth.onChange(() => {
    draft = null
    validation = null
    preview = null
    if (panel) void loadDraft()
  })
  selection.onChange(() => {
    if (panel) render()
  })

  return {
    id: 'planner',
    titleKey: 'view.planner',
    defaultLayers: ['cells', 'community'],
    mount(el) {
      panel = el
      setMode('select')
      drawing.mount()
      render()
      void auth.ready.then(loadDraft)
    },
    unmount() {
      request?.abort()
      drawing.unmount()
      setMode('select')
      selection.set(null)
      panel = undefined
      draw()
    },
    onMapClick({ lng, lat }) {
      if (!canWrite()) return
      if (mode === 'split') drawing.add(lng, lat)
      else void pick(lng, lat)
    },
    onLanguage: render,
  }
}

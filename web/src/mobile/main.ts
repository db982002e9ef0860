/**
 * 城管通 in the browser: the field supervisor's and the resident's phone app
 * (web/m/index.html, served at /m/). No map library and no framework, so it
 * loads fast on a poor connection; an installable PWA (manifest + service
 * worker) whose reports wait in an IndexedDB outbox while offline.
 *
 * Supervisor (signed in with a token): report (photos, position, the cell and
 * the nearest components, the matter, a note) and verify handled cases near
 * them (核查: photo, pass or send back). Resident: report after a simple human
 * check (the phone gets a guest account), follow the cases it reported.
 */
import type { Geometry } from 'geojson'
import { searchMatters, type PickerMatter } from '../lib/matter-search.ts'
import { miniMapSvg } from './minimap.ts'
import { flush, outbox, startSender, type OutboxItem, type SentRecord } from './outbox.ts'
import { shrink } from './photo.ts'

type Crs = 'wgs84' | 'gcj02' | 'bd09'
interface Pos { lon: number; lat: number; crs: Crs; accuracy: number | null; source: 'gps' | 'link' }
interface Org { uscc: string; name: string | null }
interface Hit { id: string; subclass: string; subclass_name: string | null; lon: number; lat: number; distance_m: number | null; owner: Org; status_name: string }
interface Geo { cell: string; point: { lon: number; lat: number }; community: { code: string; name: string }; subdistrict: { code: string; name: string } }
interface Me { id: number; name: string; role: string }
interface CaseRow {
  id: number; status: string; status_name: string; matter: { code: string; name: string }; description: string
  location: { lon: number; lat: number; cell: string }
  clock: { due_at: string | null; light: 'green' | 'yellow' | 'red' } | null; reported_at: string; facility: { id: string; owner_name: string | null } | null
}
interface CaseEvent { seq: number; at: string; action: string; action_name: string; note: string | null; photos: string[] }

const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel)
  if (!el) throw new Error(`missing ${sel}`)
  return el
}
const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const uuid = (): string => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`)

const state = {
  token: localStorage.getItem('wangge.token'),
  me: null as Me | null,
  pos: null as Pos | null,
  geo: null as Geo | null,
  cellGeom: null as Geometry | null,
  hits: [] as Hit[],
  facility: null as Hit | null,
  matters: [] as PickerMatter[],
  matter: null as PickerMatter | null,
  query: '',
  photos: [] as Blob[],
  note: '',
  message: '' as string,
  /** A case the message is about: shown as a link to follow it. */
  messageCase: null as number | null,
  queued: 0,
  sent: JSON.parse(localStorage.getItem('wangge.sent') ?? '[]') as SentRecord[],
  challenge: null as { challenge: string; question: string } | null,
}

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message) }
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers)
  if (state.token) headers.set('authorization', `Bearer ${state.token}`)
  const res = await fetch(path, { ...init, headers })
  const text = await res.text()
  const body: unknown = text ? JSON.parse(text) : null
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error
    throw new HttpError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`)
  }
  return body as T
}

// ---- position --------------------------------------------------------------

/** A position handed over in the link: ours (?lon&lat&crs) or AMap's (?position=lon,lat&coordinate=gaode). */
function positionFromLink(): Pos | null {
  const q = new URLSearchParams(location.search)
  let lon = Number(q.get('lon'))
  let lat = Number(q.get('lat'))
  let crs = (q.get('crs') ?? 'wgs84') as Crs
  const p = q.get('position')
  if (p) {
    [lon, lat] = p.split(',').map(Number)
    crs = q.get('coordinate') === 'wgs84' ? 'wgs84' : 'gcj02'
  }
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || lon === 0 || !['wgs84', 'gcj02', 'bd09'].includes(crs)) return null
  return { lon, lat, crs, accuracy: null, source: 'link' }
}

function locate(): void {
  if (!navigator.geolocation) { state.message = '此设备不能定位'; render(); return }
  state.message = '正在定位…'
  render()
  navigator.geolocation.getCurrentPosition((p) => {
    // The browser's position is WGS84 (GPS).
    void setPosition({ lon: p.coords.longitude, lat: p.coords.latitude, crs: 'wgs84', accuracy: p.coords.accuracy, source: 'gps' })
  }, (err) => {
    state.message = `定位失败：${err.message}`
    render()
  }, { enableHighAccuracy: true, timeout: 15_000, maximumAge: 0 })
}

async function setPosition(pos: Pos): Promise<void> {
  state.pos = pos
  state.geo = null
  state.cellGeom = null
  state.hits = []
  state.facility = null
  state.message = ''
  render()
  if (!navigator.onLine) { state.message = '离线：位置已记下，网格和部件在联网后由服务器判定'; render(); return }
  try {
    const q = `lon=${pos.lon}&lat=${pos.lat}&crs=${pos.crs}`
    const geo = await api<Geo>(`/api/geocode?${q}`)
    state.geo = geo
    const [cell, near] = await Promise.all([
      api<{ geometry: Geometry }>(`/api/cells/${geo.cell}`),
      api<{ facilities: Hit[] }>(`/api/facilities/nearest?${q}&k=6&max_distance=80`),
    ])
    state.cellGeom = cell.geometry
    state.hits = near.facilities
  } catch (err) {
    state.message = err instanceof HttpError && err.code === 'outside_district' ? '这个位置不在本区网格内' : `查询失败：${(err as Error).message}`
  }
  render()
}

// ---- matters ----------------------------------------------------------------

async function loadMatters(): Promise<void> {
  try {
    const r = await api<{ matters: PickerMatter[] }>('/api/matter-picker')
    state.matters = r.matters
    localStorage.setItem('wangge.matters', JSON.stringify(r.matters))
  } catch {
    state.matters = JSON.parse(localStorage.getItem('wangge.matters') ?? '[]') as PickerMatter[]
  }
}

function chooseFacility(id: string): void {
  const hit = state.hits.find((h) => h.id === id) ?? null
  state.facility = state.facility?.id === id ? null : hit
  // The component's anomaly is the matter: pick it unless the user chose another of that component.
  if (state.facility && state.matter?.component_subclass !== state.facility.subclass) {
    state.matter = state.matters.find((m) => m.component_subclass === state.facility?.subclass) ?? state.matter
  }
  render()
}

// ---- sending -----------------------------------------------------------------

function recordSent(r: SentRecord): void {
  state.sent = [r, ...state.sent].slice(0, 50)
  localStorage.setItem('wangge.sent', JSON.stringify(state.sent))
  state.message = r.kind === 'report'
    ? (r.linked ? `已并入案件 ${r.caseId}（附近已有人上报同一问题）` : `已上报，案件号 ${r.caseId}`)
    : `案件 ${r.caseId} 已${r.summary === 'verify' ? '核查通过' : '退回返工'}`
  state.messageCase = r.caseId
}

async function refreshCount(): Promise<void> {
  const items = await outbox.all()
  state.queued = items.length
  render()
}

const sender = {
  token: () => state.token,
  changed: () => { void refreshCount() },
  sent: (r: SentRecord) => { recordSent(r); void refreshCount() },
}

async function ensureAccount(): Promise<boolean> {
  if (state.token) return true
  if (!state.challenge) {
    state.challenge = await api<{ challenge: string; question: string }>('/api/public/challenge')
    state.message = '请先回答下面的问题（防止机器批量举报），再点“上报”'
    render()
    return false
  }
  const answer = Number(($<HTMLInputElement>('[data-testid=human-answer]')).value)
  try {
    const r = await api<{ token: string }>('/api/public/guest', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ challenge: state.challenge.challenge, answer }) })
    state.token = r.token
    localStorage.setItem('wangge.token', r.token)
    state.challenge = null
    await loadMe()
    return true
  } catch (err) {
    state.challenge = null
    state.message = `${(err as Error).message}`
    await ensureAccount()
    return false
  }
}

async function submitReport(): Promise<void> {
  if (!state.pos) { state.message = '请先定位'; render(); return }
  if (!state.matter) { state.message = '请选择问题类型'; render(); return }
  if (!state.token && !(await ensureAccount())) return
  const body: Record<string, unknown> = {
    matter: state.matter.code,
    description: state.note.trim() || state.matter.name,
    point: { lon: state.pos.lon, lat: state.pos.lat, crs: state.pos.crs },
  }
  if (state.facility && state.facility.subclass === state.matter.component_subclass) body.facility_id = state.facility.id
  const item: OutboxItem = { kind: 'report', key: uuid(), created: Date.now(), photos: state.photos, attempts: 0, body }
  await outbox.add(item)
  state.photos = []
  state.note = ''
  state.facility = null
  state.message = navigator.onLine ? '正在发送…' : '离线：已存入待发送，联网后自动发送'
  await refreshCount()
  await flush(sender)
  await refreshCount()
}

// ---- views ---------------------------------------------------------------------

function header(): string {
  const who = state.me ? `${esc(state.me.name)}` : '未登录（市民可直接举报）'
  return `<header class="bar"><b>城管通</b><span class="who" data-testid="who">${who}</span>
    <a href="#/outbox" class="badge" data-testid="outbox-count" aria-label="待发送">${state.queued}</a>
    <span class="net ${navigator.onLine ? 'on' : 'off'}" data-testid="net">${navigator.onLine ? '在线' : '离线'}</span></header>
    <nav class="tabs"><a href="#/">上报</a>${state.me?.role === 'supervisor' ? '<a href="#/tasks">核查</a>' : ''}<a href="#/mine">我的</a><a href="#/signin">登录</a></nav>`
}

function reportView(): string {
  const p = state.pos
  const geo = state.geo
  const map = p && (geo || state.hits.length)
    ? miniMapSvg({
      point: geo ? geo.point : { lon: p.lon, lat: p.lat }, cell: state.cellGeom,
      facilities: state.hits.map((h) => ({ id: h.id, lon: h.lon, lat: h.lat, label: `${h.subclass_name ?? h.subclass} ${h.owner.name ?? ''}`, selected: state.facility?.id === h.id })),
    })
    : ''
  const results = searchMatters(state.matters, state.query, 8)
  return `<section class="card">
    <h2>位置</h2>
    <button type="button" data-testid="locate" data-do="locate">📍 定位</button>
    <p data-testid="position">${p ? `${p.lon.toFixed(6)}, ${p.lat.toFixed(6)} (${p.crs.toUpperCase()}${p.accuracy ? `, ±${Math.round(p.accuracy)} m` : ''}${p.source === 'link' ? '，来自分享链接' : ''})` : '尚未定位'}</p>
    ${geo ? `<p class="cell" data-testid="cell-info">网格 <code data-testid="cell-code">${esc(geo.cell)}</code><br>${esc(geo.subdistrict.name)} · ${esc(geo.community.name)}</p>` : ''}
    ${map}
    ${state.hits.length ? `<ol class="hits" data-testid="facility-list">${state.hits.map((h, i) => `<li><button type="button" data-do="facility" data-id="${esc(h.id)}" data-testid="facility-${i + 1}" class="${state.facility?.id === h.id ? 'sel' : ''}">
      <b>${i + 1}</b> ${esc(h.subclass_name ?? h.subclass)} · ${esc(h.owner.name ?? h.owner.uscc)} <small>${h.distance_m === null ? '' : `${Math.round(h.distance_m)} m`} · ${esc(h.status_name)}</small></button></li>`).join('')}</ol>` : ''}
  </section>
  <section class="card">
    <h2>问题类型</h2>
    ${state.matter ? `<p class="chosen" data-testid="matter-selected">${esc(state.matter.major_name)} › <b>${esc(state.matter.name)}</b></p>` : ''}
    <input type="search" data-testid="matter-search" placeholder="名称或拼音首字母，如 jgds" value="${esc(state.query)}" autocomplete="off">
    <ul class="matters" data-testid="matter-results">${results.map((m) => `<li><button type="button" data-do="matter" data-code="${esc(m.code)}">${esc(m.name)} <small>${esc(m.major_name)}</small></button></li>`).join('')}</ul>
  </section>
  <section class="card">
    <h2>照片与说明</h2>
    <input type="file" accept="image/*" capture="environment" multiple data-testid="photo-input">
    <p class="thumbs" data-testid="photo-thumbs">${state.photos.map((b, i) => `<span class="thumb">照片${i + 1} ${Math.round(b.size / 1024)} KB</span>`).join('')}</p>
    <textarea data-testid="note" rows="3" placeholder="补充说明（可选）">${esc(state.note)}</textarea>
    ${state.challenge ? `<label class="human">${esc(state.challenge.question)} <input data-testid="human-answer" inputmode="numeric" size="4"></label><p class="human" data-testid="human-question">${esc(state.challenge.question)}</p>` : ''}
    <button type="button" class="primary" data-testid="submit" data-do="submit">上报</button>
  </section>`
}

async function tasksView(): Promise<string> {
  const p = state.pos
  const bbox = p && state.geo ? `&bbox=${state.geo.point.lon - 0.03},${state.geo.point.lat - 0.03},${state.geo.point.lon + 0.03},${state.geo.point.lat + 0.03}` : ''
  const list = (await api<{ items: CaseRow[] }>(`/api/cases?status=handled&sort=due&limit=50${bbox}`)).items
  return `<section class="card"><h2>待核查（按期限）</h2>${list.length === 0 ? '<p data-testid="no-tasks">附近没有待核查的案件</p>' : ''}
    <ul class="cases" data-testid="tasks">${list.map((c) => `<li><a href="#/case/${c.id}" data-testid="task-${c.id}">
      <b>${c.id}</b> ${esc(c.matter.name)} <small class="light ${esc(c.clock?.light ?? '')}">${c.clock?.due_at ? `期限 ${new Date(c.clock.due_at).toLocaleString('zh-CN')}` : ''}</small></a></li>`).join('')}</ul></section>`
}

async function photoUrl(id: string): Promise<string> {
  const res = await fetch(`/api/photos/${id}`, { headers: state.token ? { authorization: `Bearer ${state.token}` } : {} })
  return res.ok ? URL.createObjectURL(await res.blob()) : ''
}

async function caseView(id: number): Promise<string> {
  const c = await api<CaseRow & { events: CaseEvent[] }>(`/api/cases/${id}`)
  const events = c.events
  const imgs = await Promise.all(events.flatMap((e) => e.photos.map(async (ph) => `<img alt="${esc(e.action_name)}" src="${await photoUrl(ph)}" data-testid="photo-${esc(e.action)}">`)))
  const verify = state.me?.role === 'supervisor' && c.status === 'handled'
  // The reporter rates the result once the case is closed (satisfied, basically, not: not reopens it for review).
  const ratings = c.status === 'closed' && state.me?.role === 'resident'
    ? await api<{ rating: string; rating_name: string }[]>(`/api/cases/${id}/ratings`).catch(() => [])
    : []
  const rated = ratings[0]
  const rate = c.status === 'closed' && state.me?.role === 'resident'
    ? `<section class="card" data-testid="rating"><h2>评价处置结果</h2>${rated
      ? `<p data-testid="rated">已收到评价：${esc(rated.rating_name)}</p>`
      : `<textarea data-testid="rating-comment" rows="2" placeholder="意见（可选）"></textarea>
        <button type="button" data-do="rate" data-rating="satisfied" data-id="${c.id}" data-testid="rate-satisfied">满意</button>
        <button type="button" data-do="rate" data-rating="basic" data-id="${c.id}" data-testid="rate-basic">基本满意</button>
        <button type="button" data-do="rate" data-rating="unsatisfied" data-id="${c.id}" data-testid="rate-unsatisfied">不满意</button>`}</section>`
    : ''
  return `<section class="card" data-testid="case"><h2>案件 ${c.id}</h2>
    <p><b data-testid="case-status" data-status="${esc(c.status)}">${esc(c.status_name)}</b> · ${esc(c.matter.name)}</p>
    <p>${esc(c.description)}</p><p>网格 <code data-testid="case-cell">${esc(c.location.cell)}</code></p>
    ${c.facility ? `<p data-testid="case-facility">部件 <code>${esc(c.facility.id)}</code> · 权属 ${esc(c.facility.owner_name ?? '')}</p>` : ''}
    <ol class="timeline">${events.map((e) => `<li>${new Date(e.at).toLocaleString('zh-CN')} ${esc(e.action_name)}${e.note ? `：${esc(e.note)}` : ''}</li>`).join('')}</ol>
    <div class="photos">${imgs.join('')}</div></section>
    ${rate}
    ${verify ? `<section class="card"><h2>核查</h2>
      <input type="file" accept="image/*" capture="environment" data-testid="verify-photo">
      <p class="thumbs">${state.photos.map((b, i) => `<span class="thumb">照片${i + 1} ${Math.round(b.size / 1024)} KB</span>`).join('')}</p>
      <textarea data-testid="verify-note" rows="2" placeholder="核查说明（返工时必填）">${esc(state.note)}</textarea>
      <button type="button" class="primary" data-do="verify" data-id="${c.id}" data-testid="verify-pass">核查通过</button>
      <button type="button" data-do="rework" data-id="${c.id}" data-testid="verify-rework">退回返工</button></section>` : ''}`
}

async function mineView(): Promise<string> {
  let server = ''
  if (state.token) {
    const list = (await api<{ items: CaseRow[] }>('/api/cases?limit=30&sort=newest')).items
    server = `<ul class="cases" data-testid="my-cases">${list.map((c) => `<li><a href="#/case/${c.id}" data-testid="mine-${c.id}"><b>${c.id}</b> ${esc(c.matter.name)} · <span>${esc(c.status_name)}</span></a></li>`).join('')}</ul>`
  }
  const local = state.sent.map((s) => `<li>${new Date(s.at).toLocaleString('zh-CN')} ${s.kind === 'report' ? '上报' : '核查'} <a href="#/case/${s.caseId}">${s.caseId}</a>${s.linked ? '（并案）' : ''}</li>`).join('')
  return `<section class="card"><h2>我的案件</h2>${server || '<p>还没有登录：上报后这里会列出您的案件</p>'}</section>
    <section class="card"><h2>本机发送记录</h2><ul data-testid="sent">${local}</ul></section>`
}

async function outboxView(): Promise<string> {
  const items = await outbox.all()
  return `<section class="card"><h2>待发送 ${items.length}</h2>
    <ul data-testid="outbox">${items.map((i) => `<li>${new Date(i.created).toLocaleString('zh-CN')} ${i.kind === 'report' ? esc(i.body.description) : `核查 ${i.caseId}`}
      · ${i.photos.length} 张照片 ${i.failed ? `<b class="err">未被接受：${esc(i.error)}</b> <button type="button" data-do="discard" data-id="${esc(i.key)}">删除</button>` : i.error ? `<small>重试中：${esc(i.error)}</small>` : ''}</li>`).join('')}</ul>
    <button type="button" data-do="flush">立即发送</button></section>`
}

function signinView(): string {
  return `<section class="card"><h2>登录</h2><p>监督员：粘贴您的令牌（Bearer token）。市民无需登录即可举报。</p>
    <input data-testid="token" type="password" autocomplete="off" placeholder="wg_…">
    <button type="button" class="primary" data-do="signin" data-testid="signin">登录</button>
    ${state.token ? '<button type="button" data-do="signout">退出</button>' : ''}</section>`
}

let renderSeq = 0
async function render(): Promise<void> {
  const seq = ++renderSeq
  const route = location.hash.replace(/^#/, '') || '/'
  let body: string
  try {
    const m = /^\/case\/(\d+)$/.exec(route)
    body = m ? await caseView(Number(m[1]))
      : route === '/tasks' ? await tasksView()
        : route === '/mine' ? await mineView()
          : route === '/outbox' ? await outboxView()
            : route === '/signin' ? signinView()
              : reportView()
  } catch (err) {
    body = `<section class="card"><p class="err">${esc((err as Error).message)}</p></section>`
  }
  if (seq !== renderSeq) return
  const app = $('#app')
  const focused = document.activeElement?.getAttribute('data-testid')
  const follow = state.message && state.messageCase !== null ? ` <a href="#/case/${state.messageCase}" data-testid="follow-link">查看进度</a>` : ''
  app.innerHTML = `${header()}<div class="msg" data-testid="message" aria-live="polite">${esc(state.message)}${follow}</div>${body}`
  if (focused) {
    const el = app.querySelector<HTMLInputElement>(`[data-testid="${focused}"]`)
    if (el) { el.focus(); if (el.type === 'search') el.setSelectionRange(el.value.length, el.value.length) }
  }
}

async function loadMe(): Promise<void> {
  if (!state.token) { state.me = null; return }
  try {
    state.me = await api<Me>('/api/me')
    localStorage.setItem('wangge.me', JSON.stringify(state.me))
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) {
      state.token = null
      state.me = null
      localStorage.removeItem('wangge.token')
      localStorage.removeItem('wangge.me')
    } else {
      // Offline: who was signed in here last.
      state.me = JSON.parse(localStorage.getItem('wangge.me') ?? 'null') as Me | null
    }
  }
}

async function act(kind: 'verify' | 'rework', caseId: number): Promise<void> {
  const note = $<HTMLTextAreaElement>('[data-testid=verify-note]').value.trim()
  if (kind === 'verify' && state.photos.length === 0) { state.message = '核查通过需要现场照片'; void render(); return }
  if (kind === 'rework' && !note) { state.message = '退回返工请写明原因'; void render(); return }
  await outbox.add({ kind: 'action', key: uuid(), created: Date.now(), photos: state.photos, attempts: 0, caseId, action: kind, note })
  state.photos = []
  state.note = ''
  await refreshCount()
  await flush(sender)
  await refreshCount()
}

document.addEventListener('click', (ev) => {
  const el = (ev.target as Element).closest<HTMLElement>('[data-do], g.fac')
  if (!el) return
  const what = el.dataset.do ?? 'facility'
  const id = el.dataset.id ?? el.getAttribute('data-id') ?? ''
  if (what === 'locate') locate()
  else if (what === 'facility') chooseFacility(id)
  else if (what === 'matter') { state.matter = state.matters.find((m) => m.code === el.dataset.code) ?? null; state.query = ''; void render() }
  else if (what === 'submit') { state.note = $<HTMLTextAreaElement>('[data-testid=note]').value; void submitReport() }
  else if (what === 'verify' || what === 'rework') void act(what, Number(id))
  else if (what === 'rate') {
    const comment = $<HTMLTextAreaElement>('[data-testid=rating-comment]').value.trim()
    void api(`/api/cases/${id}/rating`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rating: el.dataset.rating, ...(comment ? { comment } : {}) }) })
      .then(() => { state.message = '谢谢您的评价' }, (err: unknown) => { state.message = `评价未成功：${(err as Error).message}` })
      .then(() => render())
  } else if (what === 'discard') void outbox.remove(id).then(refreshCount)
  else if (what === 'flush') void flush(sender).then(refreshCount)
  else if (what === 'signin') {
    state.token = $<HTMLInputElement>('[data-testid=token]').value.trim() || null
    if (state.token) localStorage.setItem('wangge.token', state.token)
    void loadMe().then(() => { state.message = state.me ? `已登录：${state.me.name}` : '令牌无效'; location.hash = '#/' })
  } else if (what === 'signout') {
    state.token = null
    state.me = null
    localStorage.removeItem('wangge.token')
    localStorage.removeItem('wangge.me')
    void render()
  }
})

document.addEventListener('input', (ev) => {
  const el = ev.target as HTMLInputElement
  const id = el.dataset.testid
  if (id === 'matter-search') { state.query = el.value; void render() } else if (id === 'note' || id === 'verify-note') state.note = el.value
})

document.addEventListener('change', (ev) => {
  const el = ev.target as HTMLInputElement
  if (el.type !== 'file' || !el.files) return
  const files = Array.from(el.files)
  state.message = '正在压缩照片…'
  void render()
  void Promise.all(files.map(shrink)).then((blobs) => {
    state.photos.push(...blobs)
    state.message = ''
    void render()
  }, (err: unknown) => { state.message = `照片处理失败：${(err as Error).message}`; void render() })
})

window.addEventListener('hashchange', () => { state.message = ''; state.messageCase = null; void render() })
window.addEventListener('online', () => { void render() })
window.addEventListener('offline', () => { void render() })

async function main(): Promise<void> {
  void render()
  await Promise.all([loadMe(), loadMatters()])
  const linked = positionFromLink()
  startSender(sender)
  await refreshCount()
  if (linked) await setPosition(linked)
  else void render()
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch(() => undefined)
  }
  ;(window as unknown as { wanggeReady: boolean }).wanggeReady = true
}

void main()

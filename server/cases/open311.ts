/**
 * Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): our matter
 * taxonomy as services, cases as service requests, with the spec's field names,
 * in JSON and XML. Pure mapping and serialisation; server/routes/open311.ts
 * wires it to HTTP.
 */
import type { CaseConfig } from './config.ts'
import { STATUS_NAMES, type Status } from './machine.ts'
import { COMPONENT_MAJORS, EVENT_MAJORS, type MatterType } from './matters.ts'
import type { CaseRow } from '../repositories/case-queries.ts'

export type Format = 'json' | 'xml'

export interface Open311Service {
  service_code: string
  service_name: string
  description: string
  metadata: boolean
  type: 'realtime'
  keywords: string
  group: string
}

export interface Open311Attribute {
  variable: boolean
  code: string
  datatype: 'string' | 'number' | 'datetime' | 'text' | 'singlevaluelist' | 'multivaluelist'
  required: boolean
  datatype_description: string
  order: number
  description: string
  values: { key: string; name: string }[]
}

export interface Open311Request {
  service_request_id: string
  status: 'open' | 'closed'
  status_notes: string | null
  service_name: string
  service_code: string
  description: string
  agency_responsible: string | null
  service_notice: string | null
  requested_datetime: string
  updated_datetime: string
  expected_datetime: string | null
  address: string | null
  address_id: string
  zipcode: string | null
  lat: number
  long: number
  media_url: string | null
}

/** ISO 8601 in Beijing time with its offset, to the second: 2025-03-07T16:00:00+08:00. */
export function beijingTime(d: Date, offsetMinutes = 480): string {
  const local = new Date(d.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19)
  const sign = offsetMinutes >= 0 ? '+' : '-'
  const a = Math.abs(offsetMinutes)
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}

function groupOf(m: MatterType): string {
  return EVENT_MAJORS[m.major] ?? `${COMPONENT_MAJORS[m.major] ?? m.major}（部件）`
}

/** Services: the standard's sub-classes (level 2), active ones. */
export function services(config: CaseConfig): Open311Service[] {
  return config.allMatters().filter((m) => m.level === 2 && m.active).map((m) => ({
    service_code: m.code,
    service_name: m.name,
    description: m.description ?? `${groupOf(m)} · ${m.name}`,
    metadata: true,
    type: 'realtime',
    keywords: [groupOf(m), m.keywords].filter(Boolean).join(', '),
    group: groupOf(m),
  }))
}

/** The service definition: finer types, the component's ID and the CRS of lat/long as attributes. */
export function serviceDefinition(config: CaseConfig, code: string): { service_code: string; attributes: Open311Attribute[] } | null {
  const m = config.matter(code)
  if (!m || m.level !== 2 || !m.active) return null
  const attributes: Open311Attribute[] = []
  const children = config.childrenOf(code).filter((c) => c.active)
  if (children.length) {
    attributes.push({
      variable: true, code: 'subtype', datatype: 'singlevaluelist', required: false, datatype_description: '细类（可不选）',
      order: attributes.length + 1, description: '更细的事项类别 — a finer type of the matter', values: children.map((c) => ({ key: c.code, name: c.name })),
    })
  }
  if (m.componentSubclass) {
    attributes.push({
      variable: true, code: 'facility_id', datatype: 'string', required: false, datatype_description: '17 位部件标识码',
      order: attributes.length + 1, description: '部件上的标识码（可不填）— the 17-digit component ID on its plate', values: [],
    })
  }
  attributes.push({
    variable: true, code: 'crs', datatype: 'singlevaluelist', required: false, datatype_description: 'lat/long 的坐标系，默认 WGS84',
    order: attributes.length + 1, description: 'coordinate system of lat/long: wgs84 (GPS, default), gcj02 (AMap, Tencent), bd09 (Baidu)',
    values: [{ key: 'wgs84', name: 'WGS84 (GPS)' }, { key: 'gcj02', name: 'GCJ-02 (高德, 腾讯)' }, { key: 'bd09', name: 'BD-09 (百度)' }],
  })
  return { service_code: code, attributes }
}

/** A case as a service request; `base` makes media_url absolute. */
export function requestOf(r: CaseRow, config: CaseConfig, photo: string | undefined, base: string): Open311Request {
  const status = r.status as Status
  const offset = config.settings.utcOffsetMinutes
  const std = config.matter(r.matter_code.slice(0, 11))
  const due = r.handle_due_at ?? r.due_at
  return {
    service_request_id: String(r.id),
    status: status === 'closed' || status === 'voided' ? 'closed' : 'open',
    status_notes: STATUS_NAMES[status],
    service_name: std?.name ?? r.matter_name,
    service_code: r.matter_code.slice(0, 11),
    description: r.description,
    agency_responsible: r.lead_unit_name,
    service_notice: null,
    requested_datetime: beijingTime(new Date(r.reported_at), offset),
    updated_datetime: beijingTime(new Date(r.updated_at), offset),
    expected_datetime: due && status !== 'voided' ? beijingTime(new Date(due), offset) : null,
    address: r.address ?? ([r.subdistrict_name, r.community_name].filter(Boolean).join(' ') || null),
    address_id: r.cell_code,
    zipcode: null,
    lat: Math.round(r.lat * 1e7) / 1e7,
    long: Math.round(r.lon * 1e7) / 1e7,
    media_url: photo ? `${base}/api/photos/${photo}` : null,
  }
}

const escapeXml = (s: string): string => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c] as string))

/** Element names of list items: the spec's XML nests <services><service>, <attributes><attribute> … */
const ITEM: Record<string, string> = {
  services: 'service', service_requests: 'request', attributes: 'attribute', values: 'value', endpoints: 'endpoint', formats: 'format', errors: 'error',
}

function node(name: string, v: unknown): string {
  if (v === null || v === undefined) return `<${name}/>`
  if (Array.isArray(v)) return `<${name}>${v.map((x) => node(ITEM[name] ?? 'item', x)).join('')}</${name}>`
  if (typeof v === 'object') return `<${name}>${Object.entries(v as Record<string, unknown>).map(([k, x]) => node(k, x)).join('')}</${name}>`
  return `<${name}>${escapeXml(String(v))}</${name}>`
}

/**
 * An Open311 document as XML.
 * @example toXml('services', [{ service_code: '11010506012' }]) // '<?xml …?><services><service><service_code>11010506012</service_code></service></services>'
 */
export function toXml(root: string, value: unknown): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n${node(root, value)}\n`
}

/**
 * Mapbox Vector Tile 2.1 writer on pbf (Mapbox's protocol-buffer codec): layers of
 * features with typed attributes, keys and values shared within a layer. Types are
 * written as ST_AsMVT writes them, so both renderers' tiles decode alike: integers
 * as uint (≥ 0) or sint, float8 as double, text as string, booleans as bool; null
 * attributes are left out.
 */
import { PbfWriter } from 'pbf'
import { GEOM_POINT, GEOM_POLYGON, type TileGeometry } from './geometry.ts'

export type FieldType = 'string' | 'int' | 'double' | 'bool'
export type FieldValue = string | number | boolean | null | undefined

export interface TileFeature {
  /** Feature id (unsigned, below 2^53). */
  id?: number
  geometry: TileGeometry
  properties: Record<string, FieldValue>
}

export interface EncodeLayer {
  name: string
  /** Attribute names and types, in the order keys are written. */
  fields: Readonly<Record<string, FieldType>>
  features: readonly TileFeature[]
}

const MOVE_TO = 1
const LINE_TO = 2
const CLOSE_PATH = 7
const command = (id: number, count: number): number => (id & 0x7) | (count << 3)
const zigzag = (n: number): number => (n << 1) ^ (n >> 31)

/** The packed geometry commands of one feature (spec §4.3). */
export function geometryCommands(g: TileGeometry): number[] {
  const out: number[] = []
  let cx = 0
  let cy = 0
  const push = (x: number, y: number): void => {
    out.push(zigzag(x - cx), zigzag(y - cy))
    cx = x
    cy = y
  }
  if (g.type === GEOM_POINT) {
    const pts = g.parts[0]
    out.push(command(MOVE_TO, pts.length / 2))
    for (let i = 0; i < pts.length; i += 2) push(pts[i], pts[i + 1])
    return out
  }
  for (const part of g.parts) {
    const n = part.length / 2
    out.push(command(MOVE_TO, 1))
    push(part[0], part[1])
    out.push(command(LINE_TO, n - 1))
    for (let i = 2; i < part.length; i += 2) push(part[i], part[i + 1])
    if (g.type === GEOM_POLYGON) out.push(command(CLOSE_PATH, 1))
  }
  return out
}

interface LayerState {
  keys: Map<string, number>
  values: Map<string, number>
  valueList: { type: FieldType; v: string | number | boolean }[]
}

function valueIndex(s: LayerState, type: FieldType, v: string | number | boolean): number {
  const k = `${type}:${String(v)}`
  let i = s.values.get(k)
  if (i === undefined) {
    i = s.valueList.length
    s.values.set(k, i)
    s.valueList.push({ type, v })
  }
  return i
}

function writeValue(val: { type: FieldType; v: string | number | boolean }, pbf: PbfWriter): void {
  switch (val.type) {
    case 'string': pbf.writeStringField(1, String(val.v)); break
    case 'double': pbf.writeDoubleField(3, Number(val.v)); break
    case 'int': {
      const n = Number(val.v)
      if (n >= 0) pbf.writeVarintField(5, n)
      else pbf.writeSVarintField(6, n)
      break
    }
    case 'bool': pbf.writeBooleanField(7, Boolean(val.v)); break
  }
}

function writeLayer(layer: EncodeLayer, extent: number, pbf: PbfWriter): void {
  const s: LayerState = { keys: new Map(), values: new Map(), valueList: [] }
  const keyList = Object.keys(layer.fields)
  keyList.forEach((k, i) => s.keys.set(k, i))
  pbf.writeVarintField(15, 2)
  pbf.writeStringField(1, layer.name)
  for (const f of layer.features) {
    const tags: number[] = []
    for (const [k, type] of Object.entries(layer.fields)) {
      const v = f.properties[k]
      if (v === null || v === undefined) continue
      const ki = s.keys.get(k) as number
      tags.push(ki, valueIndex(s, type, v))
    }
    pbf.writeMessage(2, (feat: TileFeature, p: PbfWriter) => {
      if (feat.id !== undefined) p.writeVarintField(1, feat.id)
      if (tags.length) p.writePackedVarint(2, tags)
      p.writeVarintField(3, feat.geometry.type)
      p.writePackedVarint(4, geometryCommands(feat.geometry))
    }, f)
  }
  // Keys are indexed by their place in `fields`; write them all so indexes hold even if some go unused.
  for (const k of keyList) pbf.writeStringField(3, k)
  for (const v of s.valueList) pbf.writeMessage(4, writeValue, v)
  pbf.writeVarintField(5, extent)
}

/**
 * A tile of these layers; layers without features are left out, and a tile with
 * none is zero bytes (as ST_AsMVT answers on no rows).
 * @example encodeTile([{ name: 'cells', fields: { code: 'string' }, features }], 4096)
 */
export function encodeTile(layers: readonly EncodeLayer[], extent: number): Uint8Array {
  const pbf = new PbfWriter()
  for (const layer of layers) {
    if (!layer.features.length) continue
    pbf.writeMessage(3, (l: EncodeLayer, p: PbfWriter) => writeLayer(l, extent, p), layer)
  }
  return pbf.finish()
}

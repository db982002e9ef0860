/**
 * Reads OGC WKB polygons (what ST_AsBinary returns) into GeoJSON geometry, so
 * the in-memory geocoder works on the very doubles PostGIS tests against —
 * text formats would round them.
 */
import type { MultiPolygon, Polygon, Position } from 'geojson'

const WKB_POLYGON = 3
const WKB_MULTIPOLYGON = 6

class Reader {
  private off = 0
  private little = true
  constructor(private readonly view: DataView) {}
  byteOrder(): void {
    this.little = this.view.getUint8(this.off++) === 1
  }
  u32(): number {
    const v = this.view.getUint32(this.off, this.little)
    this.off += 4
    return v
  }
  f64(): number {
    const v = this.view.getFloat64(this.off, this.little)
    this.off += 8
    return v
  }
  get done(): boolean {
    return this.off === this.view.byteLength
  }
}

function readRings(r: Reader): Position[][] {
  const rings: Position[][] = []
  const nRings = r.u32()
  for (let i = 0; i < nRings; i++) {
    const n = r.u32()
    const ring: Position[] = new Array(n)
    for (let j = 0; j < n; j++) ring[j] = [r.f64(), r.f64()]
    rings.push(ring)
  }
  return rings
}

/** Parses a 2D WKB Polygon or MultiPolygon. Throws on anything else. */
export function parseWkbPolygonal(bytes: Uint8Array): Polygon | MultiPolygon {
  const r = new Reader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  r.byteOrder()
  const type = r.u32()
  let geom: Polygon | MultiPolygon
  if (type === WKB_POLYGON) {
    geom = { type: 'Polygon', coordinates: readRings(r) }
  } else if (type === WKB_MULTIPOLYGON) {
    const n = r.u32()
    const polys: Position[][][] = []
    for (let i = 0; i < n; i++) {
      r.byteOrder()
      const t = r.u32()
      if (t !== WKB_POLYGON) throw new Error(`WKB MultiPolygon member of type ${t}`)
      polys.push(readRings(r))
    }
    geom = { type: 'MultiPolygon', coordinates: polys }
  } else {
    throw new Error(`WKB type ${type} is not a 2D Polygon or MultiPolygon`)
  }
  if (!r.done) throw new Error('trailing bytes after WKB geometry')
  return geom
}

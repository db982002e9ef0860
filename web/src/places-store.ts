/**
 * Where to write the names of subdistricts and communities, and the district
 * outline: read from the community tiles covering the district at one zoom
 * (web/src/lib/places.ts does the geometry). A handful of small tiles instead
 * of the 5 MB cell document; fetched after the first draw, which never waits
 * for them.
 */
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { placesFromTiles, type DecodedTile, type Places, type TileFeature } from './lib/places.ts'
import { tilePointToLonLat, tileTemplate, tilesCovering } from './lib/tiles.ts'

/** z11: ≈ 4 m per tile unit, a dozen tiles for Chaoyang; fine enough for a boundary line drawn 3 px wide. */
export const PLACES_ZOOM = 11

async function decode(origin: string, z: number, x: number, y: number): Promise<DecodedTile | null> {
  const url = tileTemplate(origin, 'communities').replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y))
  const res = await fetch(url)
  if (res.status === 204) return null
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
  const tile = new VectorTile(new PbfReader(new Uint8Array(await res.arrayBuffer())))
  const layer = tile.layers.communities
  if (!layer) return null
  const features: TileFeature[] = []
  for (let i = 0; i < layer.length; i++) {
    const f = layer.feature(i)
    const p = f.properties
    features.push({
      code: String(p.code), name: String(p.name), subdistrict: String(p.subdistrict), subdistrictName: String(p.subdistrict_name),
      rings: f.loadGeometry().map((ring) => ring.map((pt): [number, number] => [pt.x, pt.y])),
    })
  }
  return { z, x, y, extent: layer.extent, features }
}

/** The places of the district within `bounds` (from the communities' TileJSON). */
export async function loadPlaces(origin: string): Promise<Places> {
  const tj = await fetch(`${origin}/tiles/communities.json`)
  if (!tj.ok) throw new Error(`/tiles/communities.json: HTTP ${tj.status}`)
  const { bounds } = (await tj.json()) as { bounds: [number, number, number, number] }
  const tiles = (await Promise.all(tilesCovering(bounds, PLACES_ZOOM).map((t) => decode(origin, PLACES_ZOOM, t.x, t.y))))
    .filter((t): t is DecodedTile => t !== null)
  return placesFromTiles(tiles, (t, px, py) => tilePointToLonLat(t.z, t.x, t.y, t.extent, px, py))
}

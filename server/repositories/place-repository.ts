/** The gazetteer's places: bulk load and read back for the in-memory search index. */
import type { Queryable } from '../db/types.ts'
import type { GazetteerEntry, GazetteerKind } from '../../geocoder/gazetteer.ts'

const CHUNK = 5000

const INSERT = `INSERT INTO places (id, kind, name, aliases, address, subdistrict_code, community_code, geom, line)
SELECT id, kind, name, coalesce(string_to_array(aliases, '|'), '{}'), address, sd, cm,
  ST_SetSRID(ST_MakePoint(lon, lat), 4326),
  CASE WHEN line IS NULL THEN NULL ELSE ST_SetSRID(ST_GeomFromGeoJSON(line), 4326) END
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::float8[], $10::text[])
  AS t(id, kind, name, aliases, address, sd, cm, lon, lat, line)`

/** Inserts places in chunks; call inside a transaction. */
export async function insertPlaces(tx: Queryable, entries: readonly GazetteerEntry[], onProgress?: (done: number, total: number) => void): Promise<number> {
  for (let i = 0; i < entries.length; i += CHUNK) {
    const c = entries.slice(i, i + CHUNK)
    await tx.query(INSERT, [
      c.map((e) => e.id), c.map((e) => e.kind), c.map((e) => e.name),
      c.map((e) => (e.aliases?.length ? e.aliases.join('|') : null)), c.map((e) => e.address ?? null),
      c.map((e) => e.subdistrictCode), c.map((e) => e.communityCode ?? null),
      c.map((e) => e.lon), c.map((e) => e.lat),
      c.map((e) => (e.line ? JSON.stringify({ type: 'LineString', coordinates: e.line }) : null)),
    ])
    onProgress?.(Math.min(i + CHUNK, entries.length), entries.length)
  }
  return entries.length
}

interface PlaceRow {
  id: string
  kind: GazetteerKind
  name: string
  aliases: string[]
  address: string | null
  subdistrict_code: string
  community_code: string | null
  lon: number
  lat: number
}

/** Every place, for building the search index (road centrelines stay in the database). */
export async function loadPlaces(db: Queryable): Promise<GazetteerEntry[]> {
  const rows = (await db.query<PlaceRow>(`SELECT id, kind, name, aliases, address, subdistrict_code, community_code,
    ST_X(geom) AS lon, ST_Y(geom) AS lat FROM places ORDER BY id`)).rows
  return rows.map((r) => ({
    id: r.id, kind: r.kind, name: r.name, lon: r.lon, lat: r.lat, subdistrictCode: r.subdistrict_code,
    ...(r.aliases.length ? { aliases: r.aliases } : {}),
    ...(r.address ? { address: r.address } : {}),
    ...(r.community_code ? { communityCode: r.community_code } : {}),
  }))
}

export async function placeCount(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM places')).rows[0].n
}

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

/** One place as `loadPlaces` reads it: id, kind, name, aliases, address, subdistrict, community, lon, lat. */
type PlaceTuple = [string, GazetteerKind, string, string[], string | null, string, string | null, number, number]

/**
 * Every place, for building the search index (road centrelines stay in the database). Read as one JSON array: as
 * 57,663 rows of nine columns PGlite's wire reader took 1.7 s (an ArrayBuffer per field, and its array parser for
 * the aliases); as one value it is a single JSON.parse. json_build_array writes float8 as float8out does, so the
 * coordinates are the same doubles.
 */
export async function loadPlaces(db: Queryable): Promise<GazetteerEntry[]> {
  const { j } = (await db.query<{ j: string }>(`SELECT coalesce(json_agg(json_build_array(id, kind, name, aliases, address,
    subdistrict_code, community_code, ST_X(geom), ST_Y(geom)) ORDER BY id), '[]')::text AS j FROM places`)).rows[0]
  return (JSON.parse(j) as PlaceTuple[]).map(([id, kind, name, aliases, address, subdistrictCode, communityCode, lon, lat]) => ({
    id, kind, name, lon, lat, subdistrictCode,
    ...(aliases.length ? { aliases } : {}),
    ...(address ? { address } : {}),
    ...(communityCode ? { communityCode } : {}),
  }))
}

export async function placeCount(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM places')).rows[0].n
}

// The package ships no types. With `trace` it returns the list of problems (empty when valid).
declare module 'geojson-validation' {
  export function valid(object: unknown, trace: true): string[]
  export function valid(object: unknown, trace?: false): boolean
  export function isFeature(object: unknown, trace: true): string[]
  export function isFeature(object: unknown, trace?: false): boolean
  export function isFeatureCollection(object: unknown, trace: true): string[]
  export function isFeatureCollection(object: unknown, trace?: false): boolean
}

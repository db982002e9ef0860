/**
 * Drawing on the map point by point: each click adds a point, a double-click
 * (or the view's 完成 button) finishes. The planner draws a split line with it
 * (web/src/views/planner.ts), the area query a polygon (web/src/views/area-query.ts).
 * While drawing, a double-click does not zoom the map and the cursor is a
 * crosshair; the second click of a double-click is not a second point.
 */
import { PathLayer, ScatterplotLayer } from '@deck.gl/layers'
import type { Layer } from '@deck.gl/core'
import type { Map as MaplibreMap, MapMouseEvent } from 'maplibre-gl'
import { rgba } from '../layers/palette.ts'
import type { LonLat } from '../types.ts'

/** A second click this close (px) to the last point is the same point (the two clicks of a double-click). */
const SAME_POINT_PX = 4

export interface ClickDrawingOptions {
  /** Prefix of the deck.gl layer ids. */
  id: string
  /** Colour of the line and the points' rims. */
  color: string
  /** A ring (the line closes back to the first point once there are three), or an open line. */
  ring: boolean
  /** A double-click while drawing. */
  onFinish(): void
  /** A point was added or taken back. */
  onChange(): void
}

export interface ClickDrawing {
  /** Drawing now? */
  readonly active: boolean
  /** The points so far, WGS84 lon/lat. */
  readonly points: LonLat[]
  /** Starts or ends drawing; either way the points so far are dropped. */
  setActive(on: boolean): void
  /** A map click while drawing: the next point, unless it is the last one again. */
  add(lng: number, lat: number): void
  /** Takes back the last point. */
  undo(): void
  /** Drops the points, drawing on. */
  clear(): void
  /** The line (or ring) and its points, while there are any. */
  layers(): Layer[]
  /** Listens for the double-click that finishes; `unmount` stops listening and ends drawing. */
  mount(): void
  unmount(): void
}

export function clickDrawing(map: MaplibreMap, opts: ClickDrawingOptions): ClickDrawing {
  let active = false
  let points: LonLat[] = []

  const onDblClick = (e: MapMouseEvent): void => {
    if (!active) return
    e.preventDefault()
    opts.onFinish()
  }

  function setActive(on: boolean): void {
    active = on
    points = []
    // A double-click finishes the drawing: it must not zoom the map meanwhile.
    if (on) map.doubleClickZoom.disable()
    else map.doubleClickZoom.enable()
    map.getCanvas().style.cursor = on ? 'crosshair' : ''
  }

  return {
    get active() { return active },
    get points() { return points },
    setActive,
    add(lng, lat) {
      const last = points[points.length - 1]
      if (last) {
        const a = map.project(last)
        const b = map.project([lng, lat])
        if (Math.hypot(a.x - b.x, a.y - b.y) < SAME_POINT_PX) return
      }
      points = [...points, [lng, lat]]
      opts.onChange()
    },
    undo() {
      points = points.slice(0, -1)
      opts.onChange()
    },
    clear() {
      points = []
    },
    layers() {
      if (!points.length) return []
      const path = opts.ring && points.length > 2 ? [...points, points[0]] : points
      return [
        new PathLayer<LonLat[]>({
          id: `${opts.id}-line`,
          data: [path],
          getPath: (p) => p,
          getColor: rgba(opts.color),
          getWidth: 3,
          widthUnits: 'pixels',
          capRounded: true,
          jointRounded: true,
        }),
        new ScatterplotLayer<LonLat>({
          id: `${opts.id}-points`,
          data: points,
          getPosition: (p) => p,
          getRadius: 5,
          radiusUnits: 'pixels',
          getFillColor: [255, 255, 255, 255],
          getLineColor: rgba(opts.color),
          stroked: true,
          getLineWidth: 2,
          lineWidthUnits: 'pixels',
        }),
      ]
    },
    mount() {
      map.on('dblclick', onDblClick)
    },
    unmount() {
      map.off('dblclick', onDblClick)
      setActive(false)
    },
  }
}

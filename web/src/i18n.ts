/**
 * Interface strings: Simplified Chinese by default, English on demand. The
 * English table is typed against the Chinese one, so a missing translation is
 * a compile error, not a blank label. Data (names of places and units) is never
 * translated: it is shown as the API gives it.
 */
import type { Lang } from './lib/url-state.ts'

const zh = {
  'app.title': '朝阳区网格化管理',
  'app.subtitle': '网格 · 部件 · 案件',
  'lang.switch': 'English',
  'view.dispatcher': '调度',
  'layers.title': '图层',
  'layer.basemap': '底图',
  'layer.cells': '单元网格',
  'layer.community': '社区界线',
  'layer.subdistrict': '街道/地区界线',
  'layer.district': '区界',
  'layer.labels': '街道与社区名称',
  'layer.selection': '选中网格',
  'status.loading': '正在加载网格…',
  'status.cells': '{count} 个单元网格',
  'status.loadFailed': '网格加载失败：{message}',
  'status.pointer': '经度 {lon}  纬度 {lat}（WGS84）',
  'dispatcher.title': '位置查询',
  'dispatcher.hint': '点击地图，或输入坐标，查询所在网格及责任单位。',
  'dispatcher.coords': '坐标（经度, 纬度）',
  'dispatcher.coordsPlaceholder': '116.4631, 39.9210',
  'dispatcher.crs': '坐标系',
  'crs.wgs84': 'WGS84（GPS）',
  'crs.gcj02': 'GCJ-02（高德、腾讯）',
  'crs.bd09': 'BD-09（百度）',
  'dispatcher.locate': '查询',
  'dispatcher.clear': '清除',
  'dispatcher.locating': '查询中…',
  'dispatcher.swapped': '已按“纬度, 经度”顺序读取。',
  'result.cell': '单元网格',
  'result.community': '社区',
  'result.subdistrict': '街道/地区',
  'result.district': '区',
  'result.units': '责任单位',
  'result.point': '定位点（WGS84）',
  'result.snapped': '该点在网格外 {distance} 米，已就近归入此网格。',
  'result.area': '面积',
  'result.copy': '复制编码',
  'result.copied': '已复制',
  'role.cell': '网格责任单位',
  'role.subdistrict': '街道指挥中心',
  'role.owner': '权属单位',
  'role.maintainer': '养护单位',
  'role.authority': '主管单位',
  'error.empty': '请输入坐标。',
  'error.format': '坐标格式应为“经度, 纬度”，例如 116.4631, 39.9210。',
  'error.range': '坐标超出范围。',
  'error.outside_district': '该点在辖区外约 {distance} 米。',
  'error.index_not_ready': '网格尚未加载，请稍后再试。',
  'error.network': '无法连接服务器。',
  'error.generic': '查询失败：{message}',
  'legend.subdistrictColours': '网格按街道/地区着色',
  'units.m2': '平方米',
} as const

export type MessageKey = keyof typeof zh

const en: Record<MessageKey, string> = {
  'app.title': 'Chaoyang grid management',
  'app.subtitle': 'Grid · facilities · cases',
  'lang.switch': '中文',
  'view.dispatcher': 'Dispatch',
  'layers.title': 'Layers',
  'layer.basemap': 'Base map',
  'layer.cells': 'Unit cells',
  'layer.community': 'Community boundaries',
  'layer.subdistrict': 'Subdistrict boundaries',
  'layer.district': 'District boundary',
  'layer.labels': 'Subdistrict and community names',
  'layer.selection': 'Selected cell',
  'status.loading': 'Loading the grid…',
  'status.cells': '{count} unit cells',
  'status.loadFailed': 'The grid did not load: {message}',
  'status.pointer': 'lon {lon}  lat {lat} (WGS84)',
  'dispatcher.title': 'Locate',
  'dispatcher.hint': 'Click the map or type coordinates to find the cell and who is responsible for it.',
  'dispatcher.coords': 'Coordinates (lon, lat)',
  'dispatcher.coordsPlaceholder': '116.4631, 39.9210',
  'dispatcher.crs': 'Coordinate system',
  'crs.wgs84': 'WGS84 (GPS)',
  'crs.gcj02': 'GCJ-02 (AMap, Tencent)',
  'crs.bd09': 'BD-09 (Baidu)',
  'dispatcher.locate': 'Locate',
  'dispatcher.clear': 'Clear',
  'dispatcher.locating': 'Locating…',
  'dispatcher.swapped': 'Read as "lat, lon".',
  'result.cell': 'Cell',
  'result.community': 'Community',
  'result.subdistrict': 'Subdistrict',
  'result.district': 'District',
  'result.units': 'Responsible units',
  'result.point': 'Point (WGS84)',
  'result.snapped': 'The point is {distance} m outside every cell; it was snapped to this one.',
  'result.area': 'Area',
  'result.copy': 'Copy code',
  'result.copied': 'Copied',
  'role.cell': 'Responsible for the cell',
  'role.subdistrict': 'Subdistrict command centre',
  'role.owner': 'Owner',
  'role.maintainer': 'Maintainer',
  'role.authority': 'Authority',
  'error.empty': 'Type the coordinates.',
  'error.format': 'Coordinates are "lon, lat", e.g. 116.4631, 39.9210.',
  'error.range': 'The coordinates are out of range.',
  'error.outside_district': 'The point is about {distance} m outside the district.',
  'error.index_not_ready': 'The grid is not loaded yet; try again shortly.',
  'error.network': 'The server cannot be reached.',
  'error.generic': 'The lookup failed: {message}',
  'legend.subdistrictColours': 'Cells are coloured by subdistrict',
  'units.m2': 'm²',
}

const tables: Record<Lang, Record<MessageKey, string>> = { zh, en }

export type Params = Record<string, string | number>

/** The interface language, with listeners for the parts that re-render themselves. */
export class I18n {
  private listeners: ((lang: Lang) => void)[] = []

  constructor(private current: Lang) {}

  get lang(): Lang {
    return this.current
  }

  /** The message in the current language, `{name}` placeholders filled in. */
  t(key: MessageKey, params?: Params): string {
    const text = tables[this.current][key]
    if (!params) return text
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? this.format(params[name]) : m))
  }

  /** Knows the key? (for codes from the API, e.g. `error.outside_district`). */
  has(key: string): key is MessageKey {
    return key in zh
  }

  format(v: string | number): string {
    return typeof v === 'number' ? v.toLocaleString(this.current === 'zh' ? 'zh-CN' : 'en') : v
  }

  set(lang: Lang): void {
    if (lang === this.current) return
    this.current = lang
    for (const l of this.listeners) l(lang)
  }

  onChange(fn: (lang: Lang) => void): void {
    this.listeners.push(fn)
  }

  /** Fills every `[data-i18n]` element under root (static labels in index.html and templates). */
  apply(root: ParentNode = document): void {
    document.documentElement.lang = this.current === 'zh' ? 'zh-CN' : 'en'
    document.title = `${this.t('app.title')} · wangge`
    root.querySelectorAll<HTMLElement>('[data-i18n]').forEach((el) => {
      const key = el.dataset.i18n
      if (key && this.has(key)) el.textContent = this.t(key)
    })
    root.querySelectorAll<HTMLElement>('[data-i18n-title]').forEach((el) => {
      const key = el.dataset.i18nTitle
      if (key && this.has(key)) el.title = this.t(key)
    })
  }
}

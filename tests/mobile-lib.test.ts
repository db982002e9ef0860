/**
 * What the phone app (城管通, web/m/) does without a server: EXIF time and
 * position carried through a resize, and matters found by pinyin initials.
 */
import t from 'tap'
import { buildExifSegment, readExif, withExif } from '../web/src/lib/exif.ts'
import { initialsOf } from '../server/cases/pinyin.ts'
import { matchesInitials } from '../web/src/lib/matter-search.ts'
import { testApp } from './helpers/app.ts'

/** A JPEG as a canvas writes it: SOI, a JFIF APP0, a quantisation table, SOS, a few bytes, EOI. */
function canvasJpeg(): Uint8Array {
  const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]
  const dqt = [0xff, 0xdb, 0x00, 0x05, 0x00, 0x01, 0x02]
  const sos = [0xff, 0xda, 0x00, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0xff, 0xd9]
  return new Uint8Array([0xff, 0xd8, ...app0, ...dqt, ...sos])
}

t.test('EXIF time and GPS survive: build, insert after JFIF, read back (both byte orders)', async (t) => {
  for (const le of [true, false]) {
    const meta = { takenAt: '2026:11:20 09:41:07', gps: { lat: 39.921836, lon: 116.443129 } }
    const seg = buildExifSegment(meta, le)
    t.ok(seg, 'a segment')
    if (!seg) return
    const jpeg = withExif(canvasJpeg(), seg)
    t.same([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'still starts with SOI')
    t.same([...jpeg.subarray(2, 4)], [0xff, 0xe0], 'JFIF stays first')
    t.same([...jpeg.subarray(20, 22)], [0xff, 0xe1], 'the EXIF APP1 follows it')
    t.same([...jpeg.subarray(jpeg.length - 2)], [0xff, 0xd9], 'the image data is untouched')
    const back = readExif(jpeg)
    t.equal(back.takenAt, meta.takenAt, `time (${le ? 'II' : 'MM'})`)
    t.ok(back.gps && Math.abs(back.gps.lat - meta.gps.lat) < 1e-6 && Math.abs(back.gps.lon - meta.gps.lon) < 1e-6, `position to 0.1 m: ${JSON.stringify(back.gps)}`)
    t.equal(back.orientation, undefined, 'no orientation written: the pixels are already upright')
  }
  const south = readExif(withExif(canvasJpeg(), buildExifSegment({ gps: { lat: -33.8568, lon: -70.6483 } }) as Uint8Array))
  t.ok(south.gps && south.gps.lat < 0 && south.gps.lon < 0, 'S and W hemispheres')
  t.equal(south.takenAt, undefined, 'no time when none was given')
})

t.test('a second insert replaces the EXIF instead of adding one; non-JPEG and EXIF-less input', async (t) => {
  const a = withExif(canvasJpeg(), buildExifSegment({ takenAt: '2026:01:01 00:00:00' }) as Uint8Array)
  const b = withExif(a, buildExifSegment({ takenAt: '2026:02:02 12:00:00' }) as Uint8Array)
  let app1 = 0
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xe1) app1++
  t.equal(app1, 1, 'one APP1')
  t.equal(readExif(b).takenAt, '2026:02:02 12:00:00')
  t.same(readExif(canvasJpeg()), {}, 'nothing to read')
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  t.same(readExif(png), {})
  t.equal(withExif(png, buildExifSegment({ takenAt: '2026:01:01 00:00:00' }) as Uint8Array), png, 'not a JPEG: unchanged')
  t.equal(buildExifSegment({}), null, 'nothing to write')
  t.equal(buildExifSegment({ takenAt: 'yesterday' }), null, 'a malformed time is not written')
  // Truncated and hostile bytes never throw.
  const seg = buildExifSegment({ takenAt: '2026:01:01 00:00:00', gps: { lat: 40, lon: 116 } }) as Uint8Array
  const whole = withExif(canvasJpeg(), seg)
  for (let cut = 4; cut < whole.length; cut += 3) t.doesNotThrow(() => readExif(whole.subarray(0, cut)))
  const garbled = whole.slice()
  for (let i = 30; i < 60; i++) garbled[i] = 0xff
  t.doesNotThrow(() => readExif(garbled), 'garbled IFD')
})

t.test('pinyin initials: polyphones keep every reading; letters and digits stand for themselves', async (t) => {
  t.same(initialsOf('井盖丢失').map((x) => x[0]), ['j', 'g', 'd', 's'], 'the reading in context comes first')
  t.ok(matchesInitials(initialsOf('井盖丢失'), 'jgds'), '井盖丢失 by jgds')
  const tree = initialsOf('行道树')
  t.ok(tree[0].includes('x') && tree[0].includes('h'), `行 → ${tree[0]}`)
  t.ok(matchesInitials(tree, 'xds'), '行道树 by xds')
  t.ok(matchesInitials(tree, 'hds'), 'and by hds')
  t.ok(matchesInitials(initialsOf('暴露垃圾'), 'ljl') === false, 'not a run: no match')
  t.ok(matchesInitials(initialsOf('暴露垃圾'), 'lj'), 'a run in the middle matches')
  t.same(initialsOf('A1路灯（坏）').map((x) => x[0]), ['a', '1', 'l', 'd', 'h'], 'punctuation dropped')
  t.ok(matchesInitials(initialsOf('井盖'), ''), 'empty query matches all')
})

t.test('GET /api/matter-picker: active matters with initials, cached by ETag', async (t) => {
  const ctx = await testApp('chaoyang')
  t.teardown(() => ctx.close())
  const res = await ctx.app.inject({ url: '/api/matter-picker' })
  t.equal(res.statusCode, 200)
  const body = res.json<{ revision: number; matters: { code: string; name: string; major_name: string; component_subclass: string | null; initials: string[] }[] }>()
  t.ok(body.matters.length > 100, `${body.matters.length} matters`)
  t.ok(body.matters.every((m) => m.code.length >= 11 && m.initials.length > 0 && m.major_name !== ''), 'below the majors, with initials and major names')
  const cover = body.matters.find((m) => m.component_subclass === '01005')
  t.ok(cover, 'the power cover matter is there')
  const etag = res.headers.etag as string
  t.match(etag, /^"matters-\d+"$/)
  t.equal((await ctx.app.inject({ url: '/api/matter-picker', headers: { 'if-none-match': etag } })).statusCode, 304, 'unchanged: 304')
})

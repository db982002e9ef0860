/**
 * Photos are made smaller on the phone before they are sent (a 12-megapixel
 * picture is 4–6 MB; 1600 px on the long side at JPEG 0.85 is ≈ 300 KB), and
 * keep the original's capture time and GPS position (EXIF) through it.
 */
import { buildExifSegment, readExif, withExif } from '../lib/exif.ts'

const MAX_SIDE = 1600

export async function shrink(file: File): Promise<Blob> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height))
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(bitmap.width * scale))
  canvas.height = Math.max(1, Math.round(bitmap.height * scale))
  const ctx = canvas.getContext('2d')
  if (!ctx) throw new Error('no canvas')
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height)
  bitmap.close()
  const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the photo'))), 'image/jpeg', 0.85))
  const meta = /jpe?g/i.test(file.type) ? readExif(new Uint8Array(await file.arrayBuffer())) : {}
  const seg = buildExifSegment(meta)
  if (!seg) return blob
  return new Blob([withExif(new Uint8Array(await blob.arrayBuffer()), seg) as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' })
}

/**
 * What a photo really is, from its first bytes, whatever its name or declared
 * type says: JPEG, PNG or WebP, or nothing we accept.
 */

export type PhotoMime = 'image/jpeg' | 'image/png' | 'image/webp'

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/**
 * The media type of an image by its magic number, or null.
 * @example sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0])) // 'image/jpeg'
 */
export function sniffImage(b: Uint8Array): PhotoMime | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg'
  if (b.length >= 8 && PNG.every((v, i) => b[i] === v)) return 'image/png'
  // RIFF <size> WEBP
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46
    && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'image/webp'
  return null
}

export const PHOTO_ID = /^[0-9a-f]{64}$/

import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import type { Readable } from 'node:stream';

// Libvips' own caches and threads: a server that makes a thumbnail now and then needs neither a
// file cache nor more than the machine's cores fighting the event loop.
sharp.cache(false);
sharp.concurrency(1);

/** The image types a thumbnail is made for (PROTOCOL.md: JPEG, PNG, GIF, WebP), shown inline. */
export const INLINE_IMAGES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

// Bytes that tell nothing about themselves: the name's extension decides, among these only.
const BY_EXTENSION: Record<string, string> = {
  txt: 'text/plain', text: 'text/plain', log: 'text/plain', md: 'text/markdown', csv: 'text/csv', tsv: 'text/tab-separated-values',
  json: 'application/json', xml: 'application/xml', html: 'text/html', htm: 'text/html', svg: 'image/svg+xml',
  css: 'text/css', js: 'text/javascript', ics: 'text/calendar', vcf: 'text/vcard', yaml: 'application/yaml', yml: 'application/yaml',
};

/**
 * What the bytes are, read from their first bytes (never from what the upload claimed); for
 * bytes that tell nothing (text), the name's extension decides, else application/octet-stream.
 * An SVG or HTML file keeps its type but is never served inline (files.ts: only INLINE_IMAGES).
 */
export async function contentTypeOf(head: Buffer, name: string): Promise<string> {
  const found = await fileTypeFromBuffer(head);
  if (found) return found.mime;
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase();
  return (ext && BY_EXTENSION[ext]) ?? 'application/octet-stream';
}

export interface Thumbnail { width: number; height: number; webp: Buffer }

const THUMB_SIZE = 320;

/**
 * The image's size as shown (EXIF orientation applied) and its thumbnail: a WebP of at most
 * 320x320, rotated upright, with no metadata (sharp drops it unless asked to keep it). Undefined
 * for anything that does not decode, or that claims more than `maxPixels` (a decompression bomb
 * is a plain file: its header is read, its pixels never are).
 */
export async function makeThumbnail(source: Readable, maxPixels: number): Promise<Thumbnail | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk as Buffer);
  const input = Buffer.concat(chunks);
  try {
    const options = { limitInputPixels: maxPixels, failOn: 'error' as const };
    const meta = await sharp(input, options).metadata();
    if (!meta.width || !meta.height || meta.width * meta.height > maxPixels) return undefined;
    const upright = (meta.orientation ?? 1) >= 5;
    const webp = await sharp(input, options)
      .rotate()
      .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .timeout({ seconds: 20 })
      .toBuffer();
    return { width: upright ? meta.height : meta.width, height: upright ? meta.width : meta.height, webp };
  } catch {
    return undefined;
  }
}

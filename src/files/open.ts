import path from 'node:path';
import type { Config } from '../config.js';
import type { FileStorage } from './storage.js';

/** The storage the configuration names: S3 when S3_BUCKET is set, else the local folder. */
export async function openStorage(config: Config): Promise<FileStorage> {
  if (config.S3_BUCKET) {
    // Loaded only when configured: the AWS SDK is most of the server's code by size.
    const { createS3Storage } = await import('./s3.js');
    return createS3Storage({
      bucket: config.S3_BUCKET, endpoint: config.S3_ENDPOINT, region: config.S3_REGION,
      accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
    });
  }
  const { createLocalStorage } = await import('./local.js');
  return createLocalStorage(config.FILES_DIR ?? path.join(config.DATA_DIR, 'files'));
}

/**
 * Where browsers fetch file bytes from besides this server: the bucket's origin when downloads are
 * 302s to presigned S3 URLs (path style: the endpoint's; else the bucket's own host), for the web
 * app's CSP.
 */
export function storageOrigins(config: Config): string[] {
  if (!config.S3_BUCKET) return [];
  if (!config.S3_ENDPOINT) return [`https://${config.S3_BUCKET}.s3.${config.S3_REGION}.amazonaws.com`];
  const endpoint = new URL(config.S3_ENDPOINT);
  return [config.S3_FORCE_PATH_STYLE ? endpoint.origin : `${endpoint.protocol}//${config.S3_BUCKET}.${endpoint.host}`];
}

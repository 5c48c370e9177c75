// The SDK as a newcomer installs it: `npm pack -w relay-client` from a checkout with no
// client/dist (a fresh clone), the tarball installed into an empty project, and client/README.md's
// example type-checked with `strict` and run there against a live server. Offline: npm takes the
// packages from its cache (`npm ci` put them there); TypeScript is the repository's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, http } from './helpers/client.js';
import { useRelay, assertPush } from './helpers/protocol.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fx = useRelay('sdk_package', { AUTH_RATE_PER_MINUTE: '100000' });

/** npm in another folder: without the npm_* variables of the `npm test` around us (its prefix, its package). */
function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') || k === 'npm_config_cache'));
  return run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, maxBuffer: 16 << 20 });
}

const version = (pkg: string): string => (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** The README's example: the first ```ts block after "## Example". */
function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'client/README.md'), 'utf8');
  const block = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'client/README.md has an example');
  return block[1]!;
}

test('npm pack -w relay-client from a fresh checkout builds dist; the tarball installs into an empty project; the README example type-checks and runs', { timeout: 120_000 }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'relay-pack-'));
  try {
    // A checkout as cloned: the workspace root and client/ without dist/ (the build is the
    // package's own prepare script); node_modules is the installed one, as after `npm ci`.
    const repo = path.join(tmp, 'repo');
    mkdirSync(path.join(repo, 'client'), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(repo, 'package.json'));
    for (const f of ['package.json', 'tsconfig.json', 'README.md', 'src']) cpSync(path.join(ROOT, 'client', f), path.join(repo, 'client', f), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'));
    await npm(['pack', '-w', 'relay-client', '--pack-destination', tmp], repo);
    const [tarball] = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');
    const { stdout: listing } = await run('tar', ['-tzf', path.join(tmp, tarball)]);
    for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/wire.d.ts', 'package/README.md']) {
      assert.ok(listing.split('\n').includes(f), `the tarball holds ${f}`);
    }

    // An empty project: the tarball, ws for Node 20, and the types a TypeScript user needs.
    const app = path.join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'newcomer', private: true, type: 'module' }));
    await npm(['install', '--prefer-offline', path.join(tmp, tarball), `ws@${version('ws')}`, `@types/ws@${version('@types/ws')}`, `@types/node@${version('@types/node')}`], app);

    // Against this test's server: only the address differs from the README's.
    const example = readmeExample().replaceAll('http://localhost:3000', fx.relay.http).replaceAll('ws://localhost:3000', fx.relay.ws);
    writeFileSync(path.join(app, 'example.ts'), example);
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], outDir: 'out' },
      files: ['example.ts'],
    }));
    // Type-checks the SDK's shipped declarations too (no skipLibCheck).
    await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app })
      .catch((err: { stdout?: string }) => assert.fail(`the README example does not type-check:\n${err.stdout ?? String(err)}`));

    // The accounts the example expects: Ada (who logs in) and user 2, who gets her message.
    const ada = await http(fx.relay.http, 'POST', '/auth/sign-up', { body: { email: 'ada@example.com', password: 'password123', firstName: 'Ada' } });
    const bob = await http(fx.relay.http, 'POST', '/auth/sign-up', { body: { email: 'bob@example.com', password: 'password123', firstName: 'Bob' } });
    assert.deepEqual([ada.status, bob.status, bob.body.user.id], [201, 201, 2], 'a fresh database: Bob is user 2');
    const bobConn = await Client.connect(fx.relay.ws, bob.body.token as string);
    try {
      const { stdout, stderr } = await run(process.execPath, ['out/example.js'], { cwd: app, timeout: 20_000 });
      const lines = stdout.trim().split('\n');
      assert.deepEqual(lines, ['connection: connecting', 'connection: open', 'true Ada: Hello!', 'FORBIDDEN', 'connection: closed'], `stderr: ${stderr}`);
      const push = await bobConn.push('privateMessage', (d: { content: string }) => d.content === 'Hello!', 3000);
      assertPush(push, 'privateMessage', 'Hello!', 'Ada');
    } finally {
      bobConn.ws.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

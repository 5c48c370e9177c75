import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** The machine's PostgreSQL (trust auth); TEST_DATABASE_URL points elsewhere. */
export const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A database of this test file's own, so files run in parallel and leave nothing behind. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `relay_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = postgres(BASE_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/** A figure from a bench result line, which must be a number. */
export function num(value: unknown): number {
  assert.equal(typeof value, 'number');
  return value as number;
}

/** Runs the bench (`node args…`) as its own process, outside this test runner; all output kept. */
export function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  const env = { ...process.env };
  // A child that inherits it would report to this runner instead of printing.
  delete env['NODE_TEST_CONTEXT'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

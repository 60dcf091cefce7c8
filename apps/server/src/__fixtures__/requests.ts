import { expect } from 'vitest';
import type { CirServer } from '../server';

/** Polls the collection until its build has finished, as a client would. */
export async function waitUntilBuilt(app: CirServer, name: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await app.inject({ method: 'GET', url: `/v1/collections/${name}` });
    const record = response.json();
    if (record.status !== 'building') return record;
    if (Date.now() > deadline) throw new Error(`collection ${name} still building after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The server still answers after whatever the test just sent it. */
export async function expectHealthy(app: CirServer): Promise<void> {
  const response = await app.inject({ method: 'GET', url: '/health' });
  expect(response.statusCode).toBe(200);
  expect(response.json().status).toBe('ok');
}

/** The JSON error shape, with its status. */
export function expectError(
  response: { statusCode: number; json(): unknown },
  status: number,
  message?: RegExp,
): void {
  expect(response.statusCode).toBe(status);
  const body = response.json() as { error: { code: string; message: string } };
  expect(body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  if (message) expect(body.error.message).toMatch(message);
}

import { describe, expect, test } from 'vitest';
import { createStaff, createTestApp, dialects } from '../helpers/test-app.js';

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe.each(dialects)('app lifecycle on %s', (dialect) => {
  test('C9 app.close() releases every handle the app opened: database, timers, sockets', async () => {
    const before = handles();
    const t = await createTestApp(dialect);
    const staff = await createStaff(t);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: staff.auth })).statusCode).toBe(200);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' } })).status).toBe(200);
    expect(handles().TCPServerWrap ?? 0).toBeGreaterThan(before.TCPServerWrap ?? 0);
    await t.close();
    // Let already-closed handles finish their close callbacks.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    const after = handles();
    for (const kind of new Set([...Object.keys(after), ...Object.keys(before)])) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    }
  });
});

import { sql } from 'kysely';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { dialects } from '../helpers/test-app.js';

describe.runIf(dialects.includes('postgres'))('waiting for a PostgreSQL connection', () => {
  test('X16 the longest wait for a pooled connection is known while it lasts, and is 0 once served', async () => {
    const config = loadConfig({ DATABASE_URL: process.env.TEST_DATABASE_URL ?? '', DATABASE_POOL_SIZE: '1', SESSION_SECRET: 'test-secret-test-secret-test-secret-0123' });
    const database = openDatabase(config.database);
    try {
      expect(database.connectionWaitMs()).toBe(0);
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = (): void => undefined;
      const inside = new Promise<void>((resolve) => {
        started = resolve;
      });
      // One transaction holds the only connection until told to let go.
      const transaction = database.db.transaction().execute(async (tx) => {
        await sql`select 1`.execute(tx);
        started();
        await held;
      });
      await inside;
      const queued = sql`select 1`.execute(database.db);
      const waitedBefore = database.connectionWaitMs();
      expect(waitedBefore).toBeGreaterThan(0);
      release();
      await Promise.all([transaction, queued]);
      expect(database.connectionWaitMs()).toBe(0);
    } finally {
      await database.close();
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('X16 requests worked on at once default to three per pooled connection on PostgreSQL, 64 on SQLite; the wait for a place is bounded', () => {
  expect(loadConfig({ DATA_DIR: dir }).maxConcurrentRequests).toBe(64);
  expect(loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://u@db.example/portico' }).maxConcurrentRequests).toBe(30);
  expect(loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://u@db.example/portico', DATABASE_POOL_SIZE: '4' }).maxConcurrentRequests).toBe(12);
  expect(loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://u@db.example/portico', MAX_CONCURRENT_REQUESTS: '100' }).maxConcurrentRequests).toBe(100);
  expect(loadConfig({ DATA_DIR: dir }).maxQueueWaitMs).toBe(250);
  expect(() => loadConfig({ DATA_DIR: dir, MAX_QUEUE_WAIT_MS: '99999' })).toThrow(/MAX_QUEUE_WAIT_MS/);
});

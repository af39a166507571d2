import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function store(): { files: FileStore; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'portico-files-'));
  dirs.push(root);
  return { files: new FileStore(root), root };
}

const HOUR = 3_600_000;

/** Stores bytes, then makes the file look an hour and a half old: an orphan the sweep may take. */
async function oldOrphan(files: FileStore, bytes: Buffer): Promise<string> {
  const { sha256 } = await files.put(Readable.from([bytes]), 1 << 20);
  const past = new Date(Date.now() - 1.5 * HOUR);
  utimesSync(files.pathOf(sha256), past, past);
  return sha256;
}

describe('the file store and its sweep', () => {
  test('C3 the sweep removes an old file no row points at, and keeps a known one and a new one', async () => {
    const { files } = store();
    const orphan = await oldOrphan(files, randomBytes(100));
    const known = await oldOrphan(files, randomBytes(100));
    const { sha256: fresh } = await files.put(Readable.from([randomBytes(100)]), 1 << 20);
    expect(await files.sweep(Date.now() - HOUR, (hashes) => Promise.resolve(new Set(hashes.filter((h) => h === known))))).toBe(1);
    expect(await files.has(orphan)).toBe(false);
    expect(await files.has(known)).toBe(true);
    expect(await files.has(fresh)).toBe(true);
  });

  test('C3 an upload of an orphan’s bytes while the sweep decides keeps the file: touched before it is set aside', async () => {
    const { files } = store();
    const bytes = randomBytes(2000);
    const sha = await oldOrphan(files, bytes);
    let committed = false;
    // The database is asked, answers "nobody", and then a reply with the same bytes arrives:
    // its file is stored (the orphan touched) and its row commits before the sweep deletes.
    const removed = await files.sweep(Date.now() - HOUR, async (hashes) => {
      const answer = new Set(committed ? hashes.filter((h) => h === sha) : []);
      if (!committed) {
        await files.put(Readable.from([bytes]), 1 << 20);
        committed = true;
      }
      return answer;
    });
    expect(removed).toBe(0);
    expect(createHash('sha256').update(readFileSync(files.pathOf(sha))).digest('hex')).toBe(sha);
  });

  test('C3 an upload of an orphan’s bytes after it was set aside stores its own copy, which the sweep leaves', async () => {
    const { files, root } = store();
    const bytes = randomBytes(2000);
    const sha = await oldOrphan(files, bytes);
    let calls = 0;
    const removed = await files.sweep(Date.now() - HOUR, async (hashes) => {
      calls += 1;
      // The second question comes after the file was set aside: the upload finds it gone.
      if (calls === 2) {
        expect(existsSync(files.pathOf(sha))).toBe(false);
        await files.put(Readable.from([bytes]), 1 << 20);
      }
      return new Set(calls >= 2 ? hashes : []);
    });
    expect(removed).toBe(0);
    expect(readFileSync(files.pathOf(sha)).equals(bytes)).toBe(true);
    // Nothing is left aside.
    expect(readdirSync(join(root, sha.slice(0, 2), sha.slice(2, 4)))).toEqual([sha]);
  });

  test('C3 a file a crashed sweep left aside is put back by the next one', async () => {
    const { files, root } = store();
    const bytes = randomBytes(500);
    const sha = await oldOrphan(files, bytes);
    const dir = join(root, sha.slice(0, 2), sha.slice(2, 4));
    const { renameSync } = await import('node:fs');
    renameSync(files.pathOf(sha), join(dir, `${sha}.sweeping-abc123`));
    expect(await files.sweep(Date.now() - HOUR, (hashes) => Promise.resolve(new Set(hashes)))).toBe(0);
    expect(readdirSync(dir)).toEqual([sha]);
    expect(readFileSync(files.pathOf(sha)).equals(bytes)).toBe(true);
  });

  test('C3 opening a file that is not there says so at once, instead of a stream that fails later', async () => {
    const { files } = store();
    expect(await files.open('0'.repeat(64))).toBeUndefined();
    const { sha256 } = await files.put(Readable.from([Buffer.from('hello')]), 1 << 20);
    const stream = await files.open(sha256);
    const chunks: Buffer[] = [];
    for await (const chunk of stream!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
  });
});

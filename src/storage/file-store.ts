import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { failpoint } from '../util/failpoints.js';

export interface StoredFile {
  sha256: string;
  size: number;
  /** The first bytes, for sniffing the real type. */
  head: Buffer;
}

const HEAD_BYTES = 4100;

/**
 * Attachments on local disk, by content hash (DATA_DIR/files/ab/cd/<sha256>). A file is written
 * to a temporary name, synced, and renamed into place (then the folder synced) before the
 * database row that points at it commits; a crash leaves at worst an unreferenced file.
 */
export class FileStore {
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('not a sha256');
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(source: Readable, maxBytes: number): Promise<StoredFile> {
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = join(this.tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`);
    const handle = await open(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    const headChunks: Buffer[] = [];
    let headSize = 0;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) throw Object.assign(new Error('file too large'), { code: 'FST_REQ_FILE_TOO_LARGE' });
        hash.update(chunk);
        if (headSize < HEAD_BYTES) {
          headChunks.push(chunk.subarray(0, HEAD_BYTES - headSize));
          headSize += Math.min(chunk.length, HEAD_BYTES - headSize);
        }
        await handle.write(chunk);
      }
      // Busboy marks a cut-off file instead of throwing; refuse it rather than store half.
      if ((source as Readable & { truncated?: boolean }).truncated === true) {
        throw Object.assign(new Error('file too large'), { code: 'FST_REQ_FILE_TOO_LARGE' });
      }
      await handle.sync();
      await failpoint('file.synced');
    } catch (error) {
      await handle.close();
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    const sha256 = hash.digest('hex');
    const target = this.pathOf(sha256);
    const dir = join(this.root, sha256.slice(0, 2), sha256.slice(2, 4));
    await mkdir(dir, { recursive: true });
    const exists = await stat(target).then(() => true, () => false);
    if (exists) {
      await unlink(tmp);
      // The same bytes are stored already, maybe as an orphan the sweep is about to take: an
      // upload in flight makes them new again.
      const now = new Date();
      await utimes(target, now, now);
    } else {
      await rename(tmp, target);
      const dirHandle = await open(dir, 'r');
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    }
    return { sha256, size, head: Buffer.concat(headChunks) };
  }

  read(sha256: string): ReadStream {
    return createReadStream(this.pathOf(sha256));
  }

  /**
   * Deletes what a crash or a refused upload left behind: temporary files, and stored files no
   * row points at, when last written before `cutoffMs` (a reply in flight stores its files
   * before its row commits, so the cutoff must leave it time). `referenced` says which of some
   * hashes the database still knows.
   */
  async sweep(cutoffMs: number, referenced: (sha256s: string[]) => Promise<Set<string>>): Promise<number> {
    let removed = 0;
    const old = async (path: string) => (await stat(path).catch(() => null))?.mtimeMs ?? Infinity;
    const remove = async (path: string) => {
      await unlink(path).then(() => removed++, () => undefined);
    };
    const list = async (dir: string) => readdir(dir).catch(() => [] as string[]);
    for (const name of await list(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      if ((await old(path)) < cutoffMs) await remove(path);
    }
    for (const a of await list(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await list(join(this.root, a))) {
        if (!/^[0-9a-f]{2}$/.test(b)) continue;
        const dir = join(this.root, a, b);
        const candidates: string[] = [];
        for (const name of await list(dir)) {
          if (/^[0-9a-f]{64}$/.test(name) && (await old(join(dir, name))) < cutoffMs) candidates.push(name);
        }
        if (candidates.length === 0) continue;
        const known = await referenced(candidates);
        for (const name of candidates) if (!known.has(name)) await remove(join(dir, name));
      }
    }
    return removed;
  }
}

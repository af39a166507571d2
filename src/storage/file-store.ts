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
    // The same bytes may be stored already, maybe as an orphan the sweep is about to take: an
    // upload in flight makes them new again, and the sweep looks at a file's time again after
    // setting it aside (sweep below). Gone meanwhile (set aside by the sweep): ours goes in.
    const now = new Date();
    const touched = await utimes(target, now, now).then(() => true, (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    });
    if (touched) {
      await unlink(tmp);
    } else {
      await rename(tmp, target);
      await syncDir(dir);
    }
    return { sha256, size, head: Buffer.concat(headChunks) };
  }

  /** Whether the file of these bytes is here. */
  async has(sha256: string): Promise<boolean> {
    return stat(this.pathOf(sha256)).then((s) => s.isFile(), () => false);
  }

  read(sha256: string): ReadStream {
    return createReadStream(this.pathOf(sha256));
  }

  /** The file opened for reading, or undefined when it is not there (never a stream that fails later). */
  async open(sha256: string): Promise<Readable | undefined> {
    try {
      const handle = await open(this.pathOf(sha256), 'r');
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Deletes what a crash or a refused upload left behind: temporary files, and stored files no
   * row points at, when last written before `cutoffMs` (a reply in flight stores its files
   * before its row commits, so the cutoff must leave it time). `referenced` says which of some
   * hashes the database still knows.
   *
   * A file about to go is first renamed aside (atomic), then its time and the database are asked
   * again: an upload of the same bytes that came meanwhile either touched it before the rename
   * (the time is new: it goes back) or found it gone and stored its own copy (put above), and a
   * row that committed meanwhile is seen. Only then is it deleted, so an acknowledged attachment
   * never loses its file. A crash in between leaves the aside copy, put back at the next sweep.
   */
  async sweep(cutoffMs: number, referenced: (sha256s: string[]) => Promise<Set<string>>): Promise<number> {
    let removed = 0;
    const old = async (path: string) => (await stat(path).catch(() => null))?.mtimeMs ?? Infinity;
    const remove = async (path: string) => {
      await unlink(path).then(() => removed++, () => undefined);
    };
    const list = async (dir: string) => readdir(dir).catch(() => [] as string[]);
    /** Sets a file aside, asks again, then deletes it or puts it back. */
    const removeIfStillOrphan = async (dir: string, name: string) => {
      const path = join(dir, name);
      const aside = `${path}${ASIDE}${randomBytes(6).toString('hex')}`;
      if (!(await rename(path, aside).then(() => true, () => false))) return;
      if ((await old(aside)) < cutoffMs && !(await referenced([name])).has(name)) {
        await remove(aside);
        return;
      }
      await rename(aside, path);
    };
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
        // Files a crashed sweep left aside go back (or go, if the file is here again).
        for (const name of await list(dir)) {
          const set = name.indexOf(ASIDE);
          if (set !== 64) continue;
          const original = join(dir, name.slice(0, 64));
          if (await stat(original).then(() => true, () => false)) await unlink(join(dir, name)).catch(() => undefined);
          else await rename(join(dir, name), original).catch(() => undefined);
        }
        if (candidates.length === 0) continue;
        const known = await referenced(candidates);
        for (const name of candidates) if (!known.has(name)) await removeIfStillOrphan(dir, name);
      }
    }
    return removed;
  }
}

/** What a file set aside by the sweep is called: its hash, this, and a random suffix. */
const ASIDE = '.sweeping-';

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The staff app's tests need it built (dist/web, as `npm run build` makes it). On a fresh clone
 * `npm test` builds it here once, and again whenever a file under web/ is newer than the build.
 */
async function buildStaffApp(): Promise<void> {
  const index = join(root, 'dist', 'web', 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestIn(join(root, 'web'))) return;
  process.stdout.write('building the staff app (dist/web) for its tests…\n');
  const { build } = await import('vite');
  // Vitest sets NODE_ENV=test, which would give React's development build: build what ships.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(root, 'web', 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

/** Says loudly what the run leaves out, so a green run on a bare machine is not mistaken for a full one. */
export async function setup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL === undefined || process.env.TEST_DATABASE_URL === '') {
    const line = '='.repeat(78);
    process.stdout.write(`\n${line}\nSKIPPED: PostgreSQL. Every database test ran on SQLite only.\nSet TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> to run them on PostgreSQL too (CI does).\n${line}\n\n`);
  }
  await buildStaffApp();
}

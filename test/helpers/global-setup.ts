/** Says loudly what the run leaves out, so a green run on a bare machine is not mistaken for a full one. */
export function setup(): void {
  if (process.env.TEST_DATABASE_URL === undefined || process.env.TEST_DATABASE_URL === '') {
    const line = '='.repeat(78);
    process.stdout.write(`\n${line}\nSKIPPED: PostgreSQL. Every database test ran on SQLite only.\nSet TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> to run them on PostgreSQL too (CI does).\n${line}\n\n`);
  }
}

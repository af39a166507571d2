/**
 * Named points where a test can stop the process dead, to prove what a crash there leaves
 * behind (the SIGKILL tests). PORTICO_FAILPOINTS=name,name makes the process announce the point
 * on stderr and wait there forever; the test kills it. Unset, a failpoint is one Set lookup.
 */
const active = new Set((process.env.PORTICO_FAILPOINTS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));

export function failpoint(name: string): Promise<void> | undefined {
  if (!active.has(name)) return undefined;
  process.stderr.write(`portico failpoint: ${name}\n`);
  return new Promise<void>(() => undefined);
}

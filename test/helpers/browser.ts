import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (never a downloaded one); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether browser tests can run here; says loudly, once per file, when they cannot. */
export function chromiumAvailable(what: string): boolean {
  const available = existsSync(CHROMIUM);
  if (!available) process.stdout.write(`\nSKIPPED: ${what}. No Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); CI installs it.\n\n`);
  return available;
}

/** Chromium without network chatter, with portal.localhost resolving to this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP portal.localhost 127.0.0.1'],
  });
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server-process.js';

/** Debian's Dovecot (dovecot-imapd); DOVECOT_PATH points elsewhere. */
export const DOVECOT = process.env.DOVECOT_PATH ?? '/usr/sbin/dovecot';

/** Whether IMAP tests can run here; says loudly, once per file, when they cannot. */
export function dovecotAvailable(what: string): boolean {
  const available = existsSync(DOVECOT);
  if (!available) process.stdout.write(`\nSKIPPED: ${what}. No Dovecot at ${DOVECOT} (apt-get install dovecot-imapd, or set DOVECOT_PATH); CI installs it.\n\n`);
  return available;
}

/**
 * A real Dovecot IMAP server for one test file, on loopback, plain IMAP (no TLS: loopback only),
 * with its own configuration, users and Maildirs in a temporary folder.
 */
export class Dovecot {
  private child: ChildProcess | undefined;
  private dir = '';
  port = 0;

  async start(users: Record<string, string>): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'portico-dovecot-'));
    this.port = await freePort();
    const root = userInfo().uid === 0;
    // As root, Dovecot drops to its own users; otherwise it runs as whoever runs the tests.
    const mailUser = root ? 'dovecot' : userInfo().username;
    const uid = root ? Number(execFileSync('id', ['-u', 'dovecot']).toString().trim()) : userInfo().uid;
    const gid = root ? Number(execFileSync('id', ['-g', 'dovecot']).toString().trim()) : userInfo().gid;
    // Dovecot's own users read the users file and write the Maildirs.
    chmodSync(this.dir, 0o755);
    for (const sub of ['run', 'state', 'mail']) mkdirSync(join(this.dir, sub), { recursive: true });
    if (root) chownSync(join(this.dir, 'mail'), uid, gid);
    writeFileSync(join(this.dir, 'users'), Object.entries(users).map(([user, password]) => `${user}:{PLAIN}${password}::::::\n`).join(''), { mode: 0o644 });
    const conf = `
base_dir = ${this.dir}/run
state_dir = ${this.dir}/state
log_path = ${this.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = ${mailUser}
default_login_user = ${mailUser}
mail_location = maildir:${this.dir}/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${this.dir}/users
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${this.dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${this.port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`;
    writeFileSync(join(this.dir, 'dovecot.conf'), conf);
    const child = spawn(DOVECOT, ['-F', '-c', join(this.dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    this.child = child;
    await this.listening(child, () => output);
    return this;
  }

  /**
   * Resolves once Dovecot accepts connections: checked when it starts and whenever its run
   * directory changes (the master writes its pid and sockets there as it comes up), never by
   * sleeping; rejects if it exits first.
   */
  private listening(child: ChildProcess, output: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const watcher = watch(join(this.dir, 'run'), () => void check());
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        watcher.close();
        child.off('exit', exited);
        if (error === undefined) resolve();
        else reject(error);
      };
      const exited = () => {
        finish(new Error(`dovecot exited: ${output()}${this.log()}`));
      };
      const check = async () => {
        if (!done && (await accepts(this.port))) finish();
      };
      child.once('exit', exited);
      void check();
    });
  }

  log(): string {
    const file = join(this.dir, 'dovecot.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => { resolve(false); });
  });
}

import { writeSync } from 'node:fs';

/**
 * Where log lines go: a file descriptor (standard output), written without ever blocking the
 * process or retrying. A reader that went away (EPIPE) or that is not reading (a full pipe:
 * EAGAIN) costs the lines it does not take, counted in `dropped` (and /metrics), never the
 * server: pino's default destination retried such writes forever, sleeping between tries, so a
 * server whose log reader had gone hung at its next buffered line, even through SIGTERM.
 *
 * Standard output is opened by Node as a non-blocking pipe when it is one (reading
 * `process.stdout` makes libuv do so), so a stalled reader answers EAGAIN instead of blocking.
 * A file or a terminal takes every line. There is no buffer, so there is nothing to flush at
 * exit either.
 */
export class LogDestination {
  /** Lines (or their ends) no reader took. */
  dropped = 0;
  private gone = false;

  constructor(private readonly fd = 1) {
    // Opening standard output as a stream is what makes a pipe non-blocking (libuv does it).
    if (fd === 1 && !process.stdout.writable) this.gone = true;
  }

  write(line: string): void {
    if (this.gone) {
      this.dropped += 1;
      return;
    }
    let rest = Buffer.from(line);
    for (let tries = 0; rest.length > 0 && tries < 3; tries++) {
      try {
        rest = rest.subarray(writeSync(this.fd, rest));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // The reader is gone for good: nothing will read what follows.
        if (code === 'EPIPE' || code === 'EBADF' || code === 'ECONNRESET') this.gone = true;
        break;
      }
    }
    if (rest.length > 0) this.dropped += 1;
  }
}

import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db, Dialect } from './db/database.js';
import type { DnsResolver } from './util/dns.js';

/** What every service is built with, once, at boot. */
export interface Deps {
  db: Db;
  dialect: Dialect;
  clock: Clock;
  config: Config;
  /** DNS for the checks on incoming mail: the system's, or a test's own zone. */
  dns: DnsResolver;
}

import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db, Dialect } from './db/database.js';

/** What every service is built with, once, at boot. */
export interface Deps {
  db: Db;
  dialect: Dialect;
  clock: Clock;
  config: Config;
}

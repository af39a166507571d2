import { sql } from 'kysely';
import type { Db, Dialect } from '../src/db/database.js';

/**
 * Seeds the benchmark data set straight in SQL: each table is one INSERT … SELECT over a generated
 * series (a recursive CTE on SQLite, generate_series on PostgreSQL) inside its own transaction.
 * Every "random" choice is modular arithmetic on the row number, so both dialects get exactly the
 * same rows on every run.
 */

export const SEED = {
  companies: 20_000,
  contacts: 200_000,
  tickets: 1_000_000,
  /** Contacts 1..heavyContacts share a quarter of all tickets (~250 each). */
  heavyContacts: 1_000,
  /** Contacts 1..companyOneContacts (all heavy) belong to company 1, giving it ~20,000 tickets. */
  companyOneContacts: 80,
  pipelines: 2,
  stagesPerPipeline: 4,
} as const;

const DAY_MS = 86_400_000;
/** A fixed "now" for the data, so that runs are comparable: 2026-11-01T00:00:00Z. */
export const SEED_END_MS = Date.UTC(2026, 10, 1);
/** Tickets are created over two years ending 30 days before SEED_END_MS, ids in creation order. */
const TICKET_SPAN_MS = 730 * DAY_MS;
const TICKET_STEP_MS = TICKET_SPAN_MS / SEED.tickets;
const TICKET_START_MS = SEED_END_MS - 30 * DAY_MS - TICKET_SPAN_MS;
/** Companies and contacts are created over the three years before that. */
const DIRECTORY_START_MS = TICKET_START_MS - 3 * 365 * DAY_MS;

export interface SeedStep {
  step: string;
  rows: number;
  ms: number;
}

export interface SeedReport {
  steps: SeedStep[];
  totalMs: number;
}

/** Facts about the seeded data, read back from the database. */
export interface SeedShape {
  tickets: number;
  ticketContacts: number;
  ticketCompanies: number;
  contactsWithTickets: number;
  maxTicketsPerContact: number;
  minTicketsPerHeavyContact: number;
  companyOneTickets: number;
  closedTickets: number;
}

const P1 = 2_147_483_647; // 2^31 - 1
const P2 = 2_147_483_629; // the largest prime below P1
const MULTIPLIERS = [
  1_103_515_245, 1_664_525_311, 2_017_117_807, 1_299_709_229, 1_500_450_271, 1_073_676_287,
  1_395_342_961, 1_917_703_423, 1_226_959_813, 1_607_271_989, 1_845_493_021, 1_346_269_117,
  1_979_339_333, 1_134_903_163, 1_433_494_437, 1_711_731_301,
] as const;

/**
 * A deterministic pseudo-random integer in [0, P2) for row number `n` (an SQL expression whose
 * values stay below 2^22): two multiply-mod rounds with different primes. Every intermediate value
 * stays below 2^62, so SQLite never falls back to floating point and PostgreSQL bigint never
 * overflows. Different `stream`s are, for our purposes, independent.
 */
function rnd(n: string, stream: number): string {
  const a = MULTIPLIERS[stream % MULTIPLIERS.length] ?? MULTIPLIERS[0];
  return `(((CAST(${n} AS bigint) * ${a} + ${stream * 7919}) % ${P1}) * 1597334677 % ${P2})`;
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** CASE choosing among `choices` by weight (null for SQL NULL) with pseudo-random `hash`. */
function pick(hash: string, choices: readonly (readonly [string | null, number])[]): string {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let upTo = 0;
  const arms = choices.map(([value, weight]) => {
    upTo += weight;
    return `WHEN ${hash} % ${total} < ${upTo} THEN ${value === null ? 'NULL' : quote(value)}`;
  });
  return `(CASE ${arms.join(' ')} END)`;
}

function even(values: readonly string[]): (readonly [string, number])[] {
  return values.map((value) => [value, 1] as const);
}

/** `WITH` clause defining n(i) = 1..count, as a 64-bit integer on both dialects. */
function series(dialect: Dialect, count: number): string {
  return dialect === 'sqlite'
    ? `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})`
    : `WITH n(i) AS (SELECT generate_series(1::bigint, ${count}::bigint))`;
}

const FIRST_NAMES = ['Ada', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Liam', 'Maya', 'Nils', 'Olga', 'Priya'];
const LAST_NAMES = ['Anders', 'Brooks', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jensen', 'Kowalski', 'Lopez', 'Moreau', 'Novak', 'Okafor', 'Patel'];
const COMPANY_WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell', 'Wonka', 'Cyberdyne'];
const COMPANY_SUFFIXES = ['Ltd', 'Inc', 'GmbH', 'SARL', 'BV', 'AB', 'LLC', 'Oy'];
const SUBJECTS = [
  'Cannot sign in', 'Invoice shows the wrong amount', 'Export to CSV fails', 'Password reset email never arrives',
  'Feature request: dark mode', 'Slow dashboard', 'Charged twice this month', 'How do I add a teammate?',
  'Error 500 when saving', 'Attachment upload stuck', 'Change billing address', 'API rate limit questions',
];
const DESCRIPTIONS = [
  'Since this morning nothing happens when I press the button. I tried another browser and cleared the cache.',
  'Please see the attached screenshot. This started after the last update and affects the whole team.',
  'We would like to know whether this is planned, and if there is a workaround in the meantime.',
  'Steps: open the page, click export, wait. Expected a file; got a spinner that never stops.',
];

/** Companies 1..companies; company 1 is the big customer. */
function companiesSql(dialect: Dialect): string {
  const n = SEED.companies;
  return `${series(dialect, n)}
INSERT INTO companies (id, name, domain, created_at, updated_at)
SELECT i,
  ${pick(rnd('i', 0), even(COMPANY_WORDS))} || ' ' || i || ' ' || ${pick(rnd('i', 1), even(COMPANY_SUFFIXES))},
  'company' || i || '.example.com',
  ${DIRECTORY_START_MS} + i * ${Math.floor((365 * DAY_MS) / n)},
  ${DIRECTORY_START_MS} + i * ${Math.floor((365 * DAY_MS) / n)} + ${rnd('i', 2)} % ${30 * DAY_MS}
FROM n`;
}

/** The primary company of contact `c`: 1 for the first heavy contacts, otherwise spread over 2..companies. */
function companyOf(c: string): string {
  return `(CASE WHEN ${c} <= ${SEED.companyOneContacts} THEN 1 ELSE 2 + ${rnd(c, 3)} % ${SEED.companies - 1} END)`;
}

function contactsSql(dialect: Dialect): string {
  const n = SEED.contacts;
  const created = `${DIRECTORY_START_MS + 365 * DAY_MS} + i * ${Math.floor((2 * 365 * DAY_MS) / n)}`;
  return `${series(dialect, n)}
INSERT INTO contacts (id, email, email_key, first_name, last_name, phone, primary_company_id, created_at, updated_at)
SELECT i, email, email, first_name, last_name, phone, company, created, created + ${rnd('i', 4)} % ${90 * DAY_MS}
FROM (
  SELECT i, first_name, last_name, company, phone, created,
    lower(first_name) || '.' || lower(last_name) || '.' || i || '@company' || company || '.example.com' AS email
  FROM (
    SELECT i,
      ${pick(rnd('i', 5), even(FIRST_NAMES))} AS first_name,
      ${pick(rnd('i', 6), even(LAST_NAMES))} AS last_name,
      ${companyOf('i')} AS company,
      (CASE WHEN ${rnd('i', 7)} % 3 = 0 THEN NULL ELSE '+1 555 ' || (1000000 + ${rnd('i', 8)} % 9000000) END) AS phone,
      ${created} AS created
    FROM n
  ) AS a
) AS b`;
}

const CONTACT_COMPANIES_SQL = `INSERT INTO contact_companies (contact_id, company_id, created_at)
SELECT id, primary_company_id, created_at FROM contacts WHERE primary_company_id IS NOT NULL`;

/**
 * The contact of ticket `t`: a quarter of tickets go to the heavy contacts 1..heavyContacts, the
 * rest are spread over every contact (heavy ones included).
 */
function contactOf(t: string): string {
  return `(CASE WHEN ${rnd(t, 9)} % 4 = 0 THEN 1 + ${rnd(t, 10)} % ${SEED.heavyContacts} ELSE 1 + ${rnd(t, 11)} % ${SEED.contacts} END)`;
}

function ticketsSql(dialect: Dialect): string {
  const n = SEED.tickets;
  const { stagesPerPipeline } = SEED;
  // Older tickets are mostly closed; the newest tenth mostly open.
  const closed = `(CASE WHEN ${rnd('i', 12)} % 100 < (CASE WHEN i <= ${Math.floor(n * 0.9)} THEN 92 ELSE 35 END) THEN 1 ELSE 0 END)`;
  // Product of two uniforms: most activity comes soon after creation, some weeks later.
  const activityOffset = `(${rnd('i', 13)} % 2592000) * (${rnd('i', 14)} % 1000)`;
  return `${series(dialect, n)}
INSERT INTO tickets (id, subject, description, pipeline_id, stage_id, is_closed, priority, category, source,
  owner_id, properties, created_at, updated_at, last_activity_at, closed_at)
SELECT i, subject, description, pipeline_id,
  (pipeline_id - 1) * ${stagesPerPipeline} + (CASE WHEN closed = 1 THEN ${stagesPerPipeline} ELSE 1 + ${rnd('i', 15)} % ${stagesPerPipeline - 1} END),
  closed, priority, category, source, NULL, '{}', created, activity, activity,
  (CASE WHEN closed = 1 THEN activity END)
FROM (
  SELECT i, subject, description, pipeline_id, closed, priority, category, source, created,
    created + ${activityOffset} AS activity
  FROM (
    SELECT i,
      ${pick(rnd('i', 0), even(SUBJECTS))} || ' (#' || i || ')' AS subject,
      ${pick(rnd('i', 1), [...DESCRIPTIONS.map((d) => [d, 2] as const), [null, 1]])} AS description,
      (CASE WHEN ${rnd('i', 2)} % 10 < 7 THEN 1 ELSE 2 END) AS pipeline_id,
      ${closed} AS closed,
      ${pick(rnd('i', 3), [[null, 3], ['low', 2], ['medium', 3], ['high', 1], ['urgent', 1]])} AS priority,
      ${pick(rnd('i', 4), [[null, 2], ['billing', 2], ['technical', 3], ['account', 2], ['feature', 1]])} AS category,
      ${pick(rnd('i', 5), [['email', 10], ['form', 4], ['chat', 2], ['portal', 2], ['phone', 1], ['api', 1]])} AS source,
      ${TICKET_START_MS} + i * ${TICKET_STEP_MS} + ${rnd('i', 6)} % ${TICKET_STEP_MS} AS created
    FROM n
  ) AS a
) AS b`;
}

const TICKET_CONTACTS_SQL = `INSERT INTO ticket_contacts (ticket_id, contact_id, last_activity_at)
SELECT id, ${contactOf('id')}, last_activity_at FROM tickets`;

/** Words the portal search benchmark looks for (bench/run.ts): how often each occurs is by design. */
export const SEARCH_WORDS = {
  /** In one subject in twelve ("Invoice shows the wrong amount"): a page fills after a short scan. */
  common: 'invoice',
  /** In about one customer message in 5,000: a handful in the big company, found only by reading every ticket. */
  rare: 'quasar',
  /** Only ever in internal comments, which customers never search: no ticket matches. */
  commentOnly: 'escalated',
  /**
   * In one customer message in a hundred (~10,000 tickets), but never in the big company's: common
   * in the index, absent from the list being searched, the hardest case for SQLite's plan choice.
   */
  skewed: 'nebula',
} as const;

const STAFF_BODIES = [
  'Thanks for reporting this. We could reproduce it and a fix is on its way; we will write again once it is live.',
  'Could you tell us which browser and version you use? A screenshot of the error would help too.',
  'This is now fixed on our side. Please try again and let us know if anything still looks wrong.',
  'We have forwarded this to the billing team; expect an answer within one business day.',
];

/** One thread per ticket in inbox 1, with the ticket's contact, subject, status and times. */
const THREADS_SQL = `INSERT INTO threads (id, inbox_id, channel_id, ticket_id, contact_id, subject, status, assignee_id,
  created_at, updated_at, last_message_at)
SELECT t.id, 1, NULL, t.id, tc.contact_id, t.subject, (CASE WHEN t.is_closed = 1 THEN 'closed' ELSE 'open' END), NULL,
  t.created_at, t.last_activity_at, t.last_activity_at
FROM tickets t JOIN ticket_contacts tc ON tc.ticket_id = t.id`;

/**
 * Messages 3i-2 (the customer's), 3i-1 (the staff answer) and, on one thread in five, 3i (an
 * internal comment) of thread i.
 */
function messagesSql(kind: 'customer' | 'staff' | 'comment'): string {
  const id = kind === 'customer' ? 'th.id * 3 - 2' : kind === 'staff' ? 'th.id * 3 - 1' : 'th.id * 3';
  const body = kind === 'customer'
    ? `${pick(rnd('th.id', 20), even(DESCRIPTIONS))} || (CASE WHEN ${rnd('th.id', 21)} % 5000 = 0 THEN ' The ${SEARCH_WORDS.rare} module is affected.' ELSE '' END)` +
      ` || (CASE WHEN th.contact_id > ${SEED.companyOneContacts} AND ${rnd('th.id', 24)} % 100 = 0 THEN ' The ${SEARCH_WORDS.skewed} export fails too.' ELSE '' END)`
    : kind === 'staff' ? pick(rnd('th.id', 22), even(STAFF_BODIES))
    : `'Customer ${SEARCH_WORDS.commentOnly} to tier 2; check the account notes before answering.'`;
  const author = kind === 'customer' ? `'customer', th.contact_id, NULL` : `'staff', NULL, NULL`;
  const created = kind === 'customer' ? 'th.created_at' : `th.created_at + (th.last_message_at - th.created_at) / ${kind === 'staff' ? 2 : 3}`;
  return `INSERT INTO messages (id, thread_id, kind, author_type, contact_id, staff_user_id, body_text, body_html, created_at)
SELECT ${id}, th.id, '${kind === 'comment' ? 'comment' : 'message'}', ${author}, ${body}, NULL, ${created}
FROM threads th${kind === 'comment' ? ` WHERE ${rnd('th.id', 23)} % 5 = 0` : ''}`;
}

/**
 * The seeded texts reduced in SQL exactly as src/util/search-text.ts reduces them (they are
 * ASCII, so lower case and punctuation to spaces is all it takes); bench/run.ts checks a sample
 * against searchDocument before it measures anything.
 */
function searchWordsSql(expr: string): string {
  const texts = [...SUBJECTS, ...DESCRIPTIONS, ...STAFF_BODIES, ' (#1)'];
  const punctuation = [...new Set(texts.join('').replace(/[A-Za-z0-9 ]/g, ''))];
  let out = `lower(${expr})`;
  for (const ch of punctuation) out = `replace(${out}, ${quote(ch)}, ' ')`;
  for (let k = 0; k < 4; k++) out = `replace(${out}, '  ', ' ')`;
  return `trim(${out})`;
}

/** Each ticket's search document: its subject and the two customer-visible messages of its thread. */
const TICKET_SEARCH_SQL = `INSERT INTO ticket_search (ticket_id, doc)
SELECT t.id, ' ' || ${searchWordsSql("t.subject || ' ' || m1.body_text || ' ' || m2.body_text")} || ' '
FROM tickets t JOIN messages m1 ON m1.id = t.id * 3 - 2 JOIN messages m2 ON m2.id = t.id * 3 - 1`;

const TICKET_COMPANIES_SQL = `INSERT INTO ticket_companies (ticket_id, company_id, last_activity_at)
SELECT tc.ticket_id, c.primary_company_id, tc.last_activity_at
FROM ticket_contacts tc JOIN contacts c ON c.id = tc.contact_id
WHERE c.primary_company_id IS NOT NULL`;

async function rowCount(db: Db, table: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Fills an empty, migrated database. On SQLite the connection is switched to unsafe-but-fast
 * settings (no journal, no fsync, foreign keys unchecked, big cache) for the duration and back to
 * WAL afterwards; only use it on a connection that nothing else shares.
 */
export async function seedDatabase(db: Db, dialect: Dialect, log: (line: string) => void = () => undefined): Promise<SeedReport> {
  const steps: SeedStep[] = [];
  const started = performance.now();

  async function step(name: string, table: string, statements: readonly string[]): Promise<void> {
    const t0 = performance.now();
    await db.transaction().execute(async (tx) => {
      if (dialect === 'postgres') await sql`SET LOCAL synchronous_commit = off`.execute(tx);
      for (const statement of statements) await sql.raw(statement).execute(tx);
    });
    const ms = performance.now() - t0;
    const rows = await rowCount(db, table);
    steps.push({ step: name, rows, ms });
    log(`  ${name.padEnd(18)} ${rows.toLocaleString('en-US').padStart(10)} rows  ${(ms / 1000).toFixed(1).padStart(6)} s`);
  }

  if (dialect === 'sqlite') {
    await sql`PRAGMA journal_mode = OFF`.execute(db);
    await sql`PRAGMA synchronous = OFF`.execute(db);
    await sql`PRAGMA foreign_keys = OFF`.execute(db);
    await sql`PRAGMA cache_size = -2000000`.execute(db);
    await sql`PRAGMA temp_store = MEMORY`.execute(db);
  }

  const now = SEED_END_MS;
  const stages = Array.from({ length: SEED.pipelines * SEED.stagesPerPipeline }, (_, k) => {
    const pipeline = Math.floor(k / SEED.stagesPerPipeline) + 1;
    const position = (k % SEED.stagesPerPipeline) + 1;
    const last = position === SEED.stagesPerPipeline;
    const names = ['New', 'Waiting on us', 'Waiting on customer', 'Closed'];
    return `(${k + 1}, ${pipeline}, ${quote(names[position - 1] ?? `Stage ${position}`)}, ${position}, '${last ? 'closed' : 'open'}', ${now}, ${now})`;
  });
  const pipelines = Array.from({ length: SEED.pipelines }, (_, k) => `(${k + 1}, ${quote(k === 0 ? 'Support' : `Pipeline ${k + 1}`)}, ${k + 1}, ${now}, ${now})`);
  await step('pipelines, stages', 'stages', [
    `INSERT INTO pipelines (id, name, position, created_at, updated_at) VALUES ${pipelines.join(', ')}`,
    `INSERT INTO stages (id, pipeline_id, name, position, state, created_at, updated_at) VALUES ${stages.join(', ')}`,
  ]);
  await step('companies', 'companies', [companiesSql(dialect)]);
  await step('contacts', 'contacts', [contactsSql(dialect)]);
  await step('contact_companies', 'contact_companies', [CONTACT_COMPANIES_SQL]);
  await step('tickets', 'tickets', [ticketsSql(dialect)]);
  await step('ticket_contacts', 'ticket_contacts', [TICKET_CONTACTS_SQL]);
  await step('ticket_companies', 'ticket_companies', [TICKET_COMPANIES_SQL]);
  await step('inbox, threads', 'threads', [
    `INSERT INTO inboxes (id, name, created_at, updated_at) VALUES (1, 'Support', ${now}, ${now})`,
    THREADS_SQL,
  ]);
  await step('messages', 'messages', [messagesSql('customer'), messagesSql('staff'), messagesSql('comment')]);
  await step('search index', 'ticket_search', [TICKET_SEARCH_SQL]);

  if (dialect === 'postgres') {
    // Rows were inserted with explicit ids: move the identity sequences past them.
    for (const table of ['pipelines', 'stages', 'companies', 'contacts', 'tickets', 'inboxes', 'threads', 'messages']) {
      await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT max(id) FROM ${sql.table(table)}))`.execute(db);
    }
  }

  // Statistics for the planner; on PostgreSQL also VACUUM, so that the visibility map is set and
  // index-only scans work as they would on a database that autovacuum has been looking after.
  const t0 = performance.now();
  await (dialect === 'sqlite' ? sql`ANALYZE` : sql`VACUUM (ANALYZE)`).execute(db);
  const analyzeMs = performance.now() - t0;
  const analyzeStep = dialect === 'sqlite' ? 'analyze' : 'vacuum analyze';
  steps.push({ step: analyzeStep, rows: 0, ms: analyzeMs });
  log(`  ${analyzeStep.padEnd(18)} ${''.padStart(10)}       ${(analyzeMs / 1000).toFixed(1).padStart(6)} s`);

  if (dialect === 'sqlite') {
    await sql`PRAGMA journal_mode = WAL`.execute(db);
    await sql`PRAGMA synchronous = FULL`.execute(db);
    await sql`PRAGMA foreign_keys = ON`.execute(db);
  }
  return { steps, totalMs: performance.now() - started };
}

/** Reads back the shape of the seeded data (a few full index scans; a second or two). */
export async function seedShape(db: Db): Promise<SeedShape> {
  const perContact = await sql<{ contacts: number | string; max_n: number | string }>`
    SELECT count(*) AS contacts, max(n) AS max_n
    FROM (SELECT contact_id, count(*) AS n FROM ticket_contacts GROUP BY contact_id) AS per_contact`.execute(db);
  const heavy = await sql<{ min_n: number | string }>`
    SELECT min(n) AS min_n
    FROM (SELECT contact_id, count(*) AS n FROM ticket_contacts WHERE contact_id <= ${SEED.heavyContacts} GROUP BY contact_id) AS per_contact`.execute(db);
  const companyOne = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ticket_companies WHERE company_id = 1`.execute(db);
  const closed = await sql<{ n: number | string }>`SELECT count(*) AS n FROM tickets WHERE is_closed = 1`.execute(db);
  return {
    tickets: await rowCount(db, 'tickets'),
    ticketContacts: await rowCount(db, 'ticket_contacts'),
    ticketCompanies: await rowCount(db, 'ticket_companies'),
    contactsWithTickets: Number(perContact.rows[0]?.contacts ?? 0),
    maxTicketsPerContact: Number(perContact.rows[0]?.max_n ?? 0),
    minTicketsPerHeavyContact: Number(heavy.rows[0]?.min_n ?? 0),
    companyOneTickets: Number(companyOne.rows[0]?.n ?? 0),
    closedTickets: Number(closed.rows[0]?.n ?? 0),
  };
}

import Negotiator from 'negotiator';
import type { Conn } from '../../db/database.js';
import type { Deps } from '../../deps.js';
import { errors, type FieldError } from '../../errors.js';
import { readJsonArray } from '../../util/json.js';
import type { PortalRow } from '../portal/portals.service.js';
import type { PortalHosts } from '../portal/hosts.js';
import {
  allowedArguments, argumentsOf, catalogue, compileMessage, isLanguage, LANGUAGES, MessageSyntaxError, messageKeys, parseMessage,
  type Compiled, type Language,
} from './catalogue.js';
import { Translator } from './translator.js';

const MAX_MESSAGE_LENGTH = 2000;

/** The languages a portal offers: its primary language first, then the others it enabled. */
export function offeredLanguages(portal: Pick<PortalRow, 'language' | 'languages'>): Language[] {
  const primary = isLanguage(portal.language) ? portal.language : 'en';
  const extra = readJsonArray<unknown>(portal.languages).filter(isLanguage);
  return [primary, ...LANGUAGES.filter((l) => l !== primary && extra.includes(l))];
}

export interface LanguageHints {
  /** The language switch's cookie. */
  chosen?: string | undefined;
  /** The signed-in member's saved preference. */
  saved?: string | null | undefined;
  acceptLanguage?: string | undefined;
}

/**
 * The visitor's language (X1): an explicit switch, then the member's saved preference, then
 * Accept-Language, then the portal's primary language (P7). Only languages the portal offers
 * count; anything else, however malformed, is passed over.
 */
export function chooseLanguage(portal: Pick<PortalRow, 'language' | 'languages'>, hints: LanguageHints): Language {
  const offered = offeredLanguages(portal);
  const [primary] = offered as [Language, ...Language[]];
  if (offered.length === 1) return primary;
  for (const candidate of [hints.chosen, hints.saved]) {
    if (isLanguage(candidate) && offered.includes(candidate)) return candidate;
  }
  const header = hints.acceptLanguage;
  if (header !== undefined && header !== '' && header.length <= 1000) {
    const [best] = new Negotiator({ headers: { 'accept-language': header } }).languages(offered);
    if (isLanguage(best)) return best;
  }
  return primary;
}

export interface MessageOverride {
  key: string;
  /** The catalogue's message in this language. */
  default: string;
  /** The portal's own message, when the admin wrote one. */
  override: string | null;
}

interface PortalOverrides {
  version: number;
  byLanguage: Map<string, Map<string, Compiled>>;
}

/**
 * Per-portal translations: the admin's overrides of catalogue messages (stored in
 * portal_messages, checked before they are saved), and the Translator each page is rendered
 * with. Overrides are read once per portal version: saving them bumps the portal's updated_at,
 * which other processes see within PortalHosts' few seconds.
 */
export class TranslationsService {
  private readonly cache = new Map<number, PortalOverrides>();

  constructor(
    private readonly deps: Deps,
    private readonly hosts: PortalHosts,
  ) {}

  /** `db`: the caller's transaction, when it holds the (SQLite) connection. */
  async translator(portal: PortalRow, language: Language, db: Conn = this.deps.db): Promise<Translator> {
    let entry = this.cache.get(portal.id);
    if (entry?.version !== portal.updated_at) {
      const rows = await db.selectFrom('portal_messages').select(['language', 'key', 'message']).where('portal_id', '=', portal.id).execute();
      const byLanguage = new Map<string, Map<string, Compiled>>();
      for (const row of rows) {
        if (!isLanguage(row.language)) continue;
        let compiled: Compiled;
        try {
          compiled = compileMessage(row.message, row.language);
        } catch {
          continue; // Checked when saved; a row damaged since falls back to the catalogue.
        }
        let map = byLanguage.get(row.language);
        if (map === undefined) byLanguage.set(row.language, (map = new Map<string, Compiled>()));
        map.set(row.key, compiled);
      }
      if (this.cache.size >= 10_000) this.cache.clear();
      entry = { version: portal.updated_at, byLanguage };
      this.cache.set(portal.id, entry);
    }
    return new Translator(language, portal.time_zone, entry.byLanguage.get(language));
  }

  /** Every message of `language` for the portal, with the admin's override where there is one. */
  async list(portalId: number, language: Language): Promise<MessageOverride[]> {
    const rows = await this.deps.db.selectFrom('portal_messages').select(['key', 'message'])
      .where('portal_id', '=', portalId).where('language', '=', language).execute();
    const overrides = new Map(rows.map((r) => [r.key, r.message]));
    const source = catalogue(language).source;
    return messageKeys().map((key) => ({ key, default: source.get(key) ?? '', override: overrides.get(key) ?? null }));
  }

  /**
   * Sets (a message) or removes (null) overrides, all or none. Each message must be valid ICU
   * syntax and read only the values its catalogue message is given.
   */
  async update(portalId: number, language: Language, messages: Record<string, string | null>): Promise<void> {
    const fieldErrors: FieldError[] = [];
    for (const [key, message] of Object.entries(messages)) {
      const problem = message === null ? undefined : checkOverride(key, message);
      if (message === null && allowedArguments(key) === undefined) fieldErrors.push({ path: `/body/messages/${key}`, message: 'There is no message with this key: use a key from the list.' });
      if (problem !== undefined) fieldErrors.push({ path: `/body/messages/${key}`, message: problem });
    }
    if (fieldErrors.length > 0) throw errors.validation(fieldErrors, 'A message cannot be used.');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const portal = await tx.selectFrom('portals').select('updated_at').where('id', '=', portalId).executeTakeFirst();
      if (portal === undefined) throw errors.notFound('portal');
      for (const [key, message] of Object.entries(messages)) {
        await tx.deleteFrom('portal_messages').where('portal_id', '=', portalId).where('language', '=', language).where('key', '=', key).execute();
        if (message !== null) await tx.insertInto('portal_messages').values({ portal_id: portalId, language, key, message, updated_at: now }).execute();
      }
      // A new version of the portal, so every process reads the overrides again.
      await tx.updateTable('portals').set({ updated_at: Math.max(now, portal.updated_at + 1) }).where('id', '=', portalId).execute();
    });
    this.hosts.invalidate();
  }
}

/** Why an override cannot be used, or undefined when it can. */
export function checkOverride(key: string, message: string): string | undefined {
  const allowed = allowedArguments(key);
  if (allowed === undefined) return 'There is no message with this key: use a key from the list.';
  if (message.length > MAX_MESSAGE_LENGTH) return `Enter at most ${MAX_MESSAGE_LENGTH} characters.`;
  if (message.includes('\u0000')) return 'Remove the NUL character: text may not contain it.';
  let used: Set<string>;
  try {
    used = argumentsOf(parseMessage(message));
  } catch (error) {
    if (error instanceof MessageSyntaxError) return `This is not a valid ICU message: ${error.message}.`;
    throw error;
  }
  const unknown = [...used].filter((name) => !allowed.has(name));
  if (unknown.length > 0) {
    const may = allowed.size === 0 ? 'this message takes no values' : `it may use ${[...allowed].map((a) => `{${a}}`).join(', ')}`;
    return `This uses ${unknown.map((a) => `{${a}}`).join(', ')}, which this message is not given: ${may}.`;
  }
  return undefined;
}

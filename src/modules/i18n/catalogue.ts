import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';

/**
 * The languages Portico's customer-facing text is written in, each with a catalogue in
 * locales/<code>.json: flat keys to ICU MessageFormat messages. English is the reference: every
 * other catalogue has exactly its keys (test/unit/i18n-catalogue.test.ts).
 */
export const LANGUAGES = ['en', 'pl'] as const;
export type Language = (typeof LANGUAGES)[number];
/** Each language's name in English, for the staff side (error messages, the API's words). */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', pl: 'Polish' };
export const REFERENCE_LANGUAGE: Language = 'en';

export function isLanguage(code: unknown): code is Language {
  return typeof code === 'string' && (LANGUAGES as readonly string[]).includes(code);
}

/** A message ready to format: its text when it has no arguments, else a compiled formatter. */
export type Compiled = string | IntlMessageFormat;

/** Tags in a message are text (`<b>` prints as `<b>`, escaped by the page like any text). */
const PARSE_OPTIONS = { ignoreTag: true, requiresOtherClause: true } as const;

export class MessageSyntaxError extends Error {}

/** The ICU syntax tree of a message, or MessageSyntaxError saying what is wrong and where. */
export function parseMessage(message: string): MessageFormatElement[] {
  try {
    return parse(message, PARSE_OPTIONS);
  } catch (error) {
    const e = error as { message?: string; location?: { start?: { offset?: number } } };
    const kind = (e.message ?? 'INVALID').toLowerCase().replace(/_/g, ' ');
    const at = e.location?.start?.offset;
    throw new MessageSyntaxError(at === undefined ? kind : `${kind} at character ${at + 1}`);
  }
}

/** The names of the values a message reads: {name}, {n, plural, …}, {d, date} and so on. */
export function argumentsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const el of elements) {
    if (el.type === TYPE.literal || el.type === TYPE.pound) continue;
    into.add(el.value);
    if (el.type === TYPE.plural || el.type === TYPE.select) {
      for (const option of Object.values(el.options)) argumentsOf(option.value, into);
    } else if (el.type === TYPE.tag) {
      argumentsOf(el.children, into);
    }
  }
  return into;
}

export function compileMessage(message: string, language: Language): Compiled {
  const ast = parseMessage(message);
  if (ast.every((el) => el.type === TYPE.literal)) return ast.map((el) => (el as { value: string }).value).join('');
  return new IntlMessageFormat(ast, language, undefined, { ignoreTag: true });
}

/** Formats a compiled message; throws when a value it reads is missing or of the wrong type. */
export function formatCompiled(compiled: Compiled, values: Record<string, unknown> | undefined): string {
  if (typeof compiled === 'string') return compiled;
  return String(compiled.format(values as Record<string, string | number | boolean | Date | null | undefined>));
}

/** locales/: beside src/ in a checkout, beside dist/ when built. */
function localesRoot(): string {
  for (const up of ['../../..', '../../../..']) {
    const dir = join(import.meta.dirname, up, 'locales');
    if (existsSync(join(dir, `${REFERENCE_LANGUAGE}.json`))) return dir;
  }
  throw new Error('locales/ not found');
}

export interface Catalogue {
  language: Language;
  /** The messages as written, by key. */
  source: ReadonlyMap<string, string>;
  compiled: ReadonlyMap<string, Compiled>;
}

function loadCatalogue(root: string, language: Language): Catalogue {
  const file = join(root, `${language}.json`);
  const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${file}: not a JSON object`);
  const source = new Map<string, string>();
  const compiled = new Map<string, Compiled>();
  for (const [key, message] of Object.entries(data)) {
    if (typeof message !== 'string') throw new Error(`${file}: ${key} is not a string`);
    try {
      compiled.set(key, compileMessage(message, language));
    } catch (error) {
      throw new Error(`${file}: ${key}: ${(error as Error).message}`, { cause: error });
    }
    source.set(key, message);
  }
  return { language, source, compiled };
}

let loaded: ReadonlyMap<Language, Catalogue> | undefined;

/** Every catalogue, read and compiled once; a broken one stops the boot with its file and key. */
export function catalogues(): ReadonlyMap<Language, Catalogue> {
  if (loaded === undefined) {
    const root = localesRoot();
    loaded = new Map(LANGUAGES.map((language) => [language, loadCatalogue(root, language)]));
  }
  return loaded;
}

export function catalogue(language: Language): Catalogue {
  const c = catalogues().get(language);
  if (c === undefined) throw new Error(`no catalogue for ${language}`);
  return c;
}

/** Every message key, in the reference catalogue's order. */
export function messageKeys(): string[] {
  return [...catalogue(REFERENCE_LANGUAGE).source.keys()];
}

/** The values a message may read: those its reference (English) text reads. */
export function allowedArguments(key: string): Set<string> | undefined {
  const message = catalogue(REFERENCE_LANGUAGE).source.get(key);
  return message === undefined ? undefined : argumentsOf(parseMessage(message));
}

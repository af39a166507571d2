import { Type, type TSchema } from 'typebox';
import { errors, type FieldError } from '../../errors.js';
import { readJsonArray } from '../../util/json.js';
import { LANGUAGE_NAMES, LANGUAGES, isLanguage, type Language } from './catalogue.js';

/**
 * Text an admin types (a portal's title, a stage's name, a form's labels, an article), in more
 * than one language (X1). Each table keeps its translations as JSON in a `translations` column:
 * `{ "pl": { "title": "…" } }`, by language code, then by field. A visitor reads the translation
 * into their language when there is one, and the text as written (the primary text) otherwise.
 */
export type TextTranslations = Partial<Record<Language, Record<string, unknown>>>;

/** A translations column as stored: only languages Portico speaks; anything damaged reads as none. */
export function readTranslations(json: string | null): TextTranslations {
  if (json === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const out: TextTranslations = {};
  for (const [language, fields] of Object.entries(parsed)) {
    if (isLanguage(language) && typeof fields === 'object' && fields !== null && !Array.isArray(fields)) out[language] = fields as Record<string, unknown>;
  }
  return out;
}

/**
 * The text of `field` for a visitor reading `language`: its translation when there is one (not
 * empty), else `primary`. `primaryLanguage`, when the owner has one (a portal), is the language
 * the primary text is in: its visitors read the primary text, whatever is stored besides.
 */
export function textIn<T extends string | null>(translations: TextTranslations | string | null, language: Language, field: string, primary: T, primaryLanguage?: string): string | T {
  if (language === primaryLanguage) return primary;
  const all = typeof translations === 'string' || translations === null ? readTranslations(translations) : translations;
  const text = all[language]?.[field];
  return typeof text === 'string' && text.trim() !== '' ? text : primary;
}

/** A list of texts aligned with the primary ones (menu labels, a choice's options), each falling back on its own. */
export function listIn(translations: TextTranslations | string | null, language: Language, field: string, primary: readonly string[], primaryLanguage?: string): string[] {
  if (language === primaryLanguage) return [...primary];
  const all = typeof translations === 'string' || translations === null ? readTranslations(translations) : translations;
  const list = all[language]?.[field];
  return primary.map((text, i) => {
    const translated = Array.isArray(list) ? (list as unknown[])[i] : undefined;
    return typeof translated === 'string' && translated.trim() !== '' ? translated : text;
  });
}

const LanguageCode = Type.String({
  minLength: 2, maxLength: 35, pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$',
  'x-hint': 'Name each language by its code, like pl for Polish.',
});

/**
 * The API's `translations` of a resource: by language code, the fields that resource translates
 * (each optional; empty or left out shows the primary text). A language Portico does not speak
 * passes the schema and is refused by `checkLanguages`, in words.
 */
export function Translations<T extends TSchema>(fields: T, what: string) {
  return Type.Record(LanguageCode, fields, {
    title: 'Translations',
    maxProperties: LANGUAGES.length,
    description: `${what} in other languages, by language code (${LANGUAGES.map((l) => `${l}: ${LANGUAGE_NAMES[l]}`).join(', ')}). A visitor reading the portal in one of them sees this text; a field left out or empty shows the text as written. Sending translations replaces all of them.`,
  });
}

/** 400 unless every language of `translations` is one Portico speaks. */
export function checkLanguages(translations: Record<string, unknown> | undefined, path = '/body/translations'): void {
  if (translations === undefined) return;
  const problems: FieldError[] = Object.keys(translations).filter((code) => !isLanguage(code)).map((code) => ({
    path: `${path}/${code}`,
    label: 'Translations',
    message: `Portico does not speak this language: translate into ${LANGUAGES.map((l) => `${LANGUAGE_NAMES[l]} (${l})`).join(' or ')}.`,
  }));
  if (problems.length > 0) throw errors.validation(problems);
}

/**
 * Translations as stored: empty texts and languages with nothing left dropped (they show the
 * primary text anyway), lists kept aligned; null when nothing remains.
 */
export function storeTranslations(translations: Record<string, Record<string, unknown>> | undefined | null): string | null {
  if (translations === undefined || translations === null) return null;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [language, fields] of Object.entries(translations)) {
    if (!isLanguage(language)) continue;
    const kept = prune(fields);
    if (kept !== undefined) out[language] = kept as Record<string, unknown>;
  }
  return Object.keys(out).length === 0 ? null : JSON.stringify(out);
}

/** A value without its empty texts: undefined when nothing is left. Lists keep their places (an empty text stays ''). */
function prune(value: unknown): unknown {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (Array.isArray(value)) {
    const items = value.map((v) => (typeof v === 'string' ? v.trim() : ''));
    if (items.every((v) => v === '')) return undefined;
    return value.map((v) => (typeof v === 'string' && v.trim() !== '' ? v : ''));
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = prune(v);
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return undefined;
}

/** Stored translations for the API: as stored, by language. */
export function presentTranslations<T>(json: string | null): Record<string, T> {
  return readTranslations(json) as Record<string, T>;
}

/** What a portal's visitors read of its settings. */
export interface PortalText {
  name: string;
  title: string;
  consentText: string | null;
  consentLabel: string | null;
  menu: { label: string; url: string }[];
}

/**
 * A portal's own text in `language` (its name, title, consent notice and label, menu labels),
 * each falling back to the primary text; the primary language reads the primary text.
 */
export function portalText(
  portal: { name: string; title: string; language: string; consent_text: string | null; consent_label: string | null; menu: string; translations: string | null },
  language: Language,
): PortalText {
  const all = readTranslations(portal.translations);
  const primary = portal.language;
  const menu = readJsonArray<{ label: string; url: string }>(portal.menu);
  const labels = listIn(all, language, 'menuLabels', menu.map((m) => m.label), primary);
  return {
    name: textIn(all, language, 'name', portal.name, primary),
    title: textIn(all, language, 'title', portal.title, primary),
    consentText: textIn(all, language, 'consentText', portal.consent_text, primary),
    consentLabel: textIn(all, language, 'consentLabel', portal.consent_label, primary),
    menu: menu.map((m, i) => ({ label: labels[i] ?? m.label, url: m.url })),
  };
}

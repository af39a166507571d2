import { Fieldset, Stack, Text, TextInput, Textarea } from '@mantine/core';
import type { Portal } from '../api/client';

export type LanguageCode = Portal['language'];

/** Each language's name, for staff. Every language the API speaks must be here (the type says so). */
export const LANGUAGE_WORDS: Record<LanguageCode, string> = { en: 'English', pl: 'Polish' };
export const ALL_LANGUAGES = Object.keys(LANGUAGE_WORDS) as LanguageCode[];

/** Translations as the API keeps them: by language code, then by field. */
export type TextTranslations = Record<string, Record<string, unknown> | undefined>;

/** One text a screen lets admins translate: its name, and the text as written (shown as the placeholder). */
export interface TranslatedField {
  key: string;
  label: string;
  primary: string;
  long?: boolean;
}

/** The text of one field in one language, '' when it has none. */
export function translated(value: TextTranslations, language: string, key: string): string {
  const text = value[language]?.[key];
  return typeof text === 'string' ? text : '';
}

/** `value` with one field of one language changed. */
export function withTranslation(value: TextTranslations, language: string, key: string, text: unknown): TextTranslations {
  return { ...value, [language]: { ...(value[language] ?? {}), [key]: text } };
}

/**
 * Boxes for the text customers read in other languages: a group per text (its name as the
 * legend), a box per language inside it, with the text as written as its placeholder. Each box
 * is named by its language alone, so a text's own box keeps its name to itself. An empty box
 * shows the text as written.
 */
export function TranslationFields({ languages, fields, value, onChange, errorFor }: {
  languages: readonly LanguageCode[];
  fields: TranslatedField[];
  value: TextTranslations;
  onChange: (next: TextTranslations) => void;
  errorFor?: (language: string, key: string) => string | undefined;
}) {
  if (languages.length === 0 || fields.length === 0) return null;
  return (
    <Stack gap="xs">
      <Text size="sm" c="dimmed">
        In other languages: customers who read the portal in {languages.map((l) => LANGUAGE_WORDS[l]).join(' or ')} see these. Leave a box empty to show the text as written.
      </Text>
      {fields.map((f) => (
        <Fieldset key={f.key} legend={`${f.label}: other languages`} variant="filled">
          <Stack gap="xs">
            {languages.map((language) => {
              const props = {
                label: LANGUAGE_WORDS[language],
                placeholder: f.primary,
                value: translated(value, language, f.key),
                error: errorFor?.(language, f.key),
                onChange: (e: { currentTarget: { value: string } }) => onChange(withTranslation(value, language, f.key, e.currentTarget.value)),
              };
              return f.long === true ? <Textarea key={language} autosize minRows={3} {...props} /> : <TextInput key={language} {...props} />;
            })}
          </Stack>
        </Fieldset>
      ))}
    </Stack>
  );
}

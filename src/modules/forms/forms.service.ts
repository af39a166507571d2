import type { Conn } from '../../db/database.js';
import type { Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { AppError, errors, type FieldError } from '../../errors.js';
import type { ConversationsService, StoredUpload } from '../conversations/conversations.service.js';
import type { TicketsService } from '../tickets/tickets.service.js';
import type { FormFieldT, FormTranslationsT } from './forms.schemas.js';
import { checkLanguages, listIn, readTranslations, storeTranslations, textIn } from '../i18n/admin-text.js';
import type { Language } from '../i18n/catalogue.js';

export type FormRow = Row<'forms'>;

/** The longest answers a form takes. */
export const MAX_TEXT = 300;
export const MAX_TEXTAREA = 20_000;

/** What a customer entered, by field key; files come separately. */
export type Answers = Record<string, string>;

/** A field the customer must correct, with the catalogue key of what to tell them (P37: what they typed stays). */
export interface FieldProblem {
  key: string;
  message: 'form.required' | 'form.tooLong' | 'form.invalidChoice' | 'form.badCharacter';
}

export function fieldsOf(form: FormRow): FormFieldT[] {
  return JSON.parse(form.fields) as FormFieldT[];
}

/** What one field says in one language, as stored (admin-text.ts). */
interface FieldWords {
  label?: string;
  help?: string;
  options?: string[];
}

function wordsIn(form: FormRow, language: Language): Record<string, FieldWords> {
  const words = readTranslations(form.translations)[language];
  return (words ?? {}) as Record<string, FieldWords>;
}

/**
 * The fields as a visitor reading `language` sees them: labels, help and options translated
 * where the form has a translation, as written otherwise. A choice's options are shown
 * translated; `primaryAnswers` turns the one picked back into the option as written.
 */
export function fieldsIn(form: FormRow, language: Language): FormFieldT[] {
  const words = wordsIn(form, language);
  return fieldsOf(form).map((f) => {
    const w = words[f.key] ?? {};
    const options = f.options === undefined ? undefined : listIn({ [language]: { options: w.options } }, language, 'options', f.options);
    const help = f.help === undefined ? undefined : textIn({ [language]: w }, language, 'help', f.help);
    return { ...f, label: textIn({ [language]: w }, language, 'label', f.label), ...(help === undefined ? {} : { help }), ...(options === undefined ? {} : { options }) };
  });
}

/**
 * Answers as the ticket takes them: a choice answered with an option as shown in `language`
 * becomes that option as written (what the ticket's property expects); anything else stays.
 */
export function primaryAnswers(form: FormRow, language: Language, answers: Answers): Answers {
  const shown = new Map(fieldsIn(form, language).map((f) => [f.key, f.options]));
  const out: Answers = { ...answers };
  for (const f of fieldsOf(form)) {
    const value = answers[f.key]?.trim();
    if (f.type !== 'choice' || value === undefined || f.options === undefined) continue;
    const index = (shown.get(f.key) ?? []).indexOf(value);
    if (index >= 0) out[f.key] = f.options[index] ?? value;
  }
  return out;
}

/**
 * Support forms (C7, P25, P37): fields mapped to ticket properties, each form connected to an
 * inbox. A submission creates a ticket associated with the submitter's contact (and so its
 * primary company), a thread in the form's inbox and its first message with the answers and
 * files: one transaction, in the inbox and the portal at once.
 */
export class FormsService {
  constructor(
    private readonly deps: Deps,
    private readonly tickets: TicketsService,
    private readonly conversations: ConversationsService,
  ) {}

  list(): Promise<FormRow[]> {
    return this.deps.db.selectFrom('forms').selectAll().orderBy('name').orderBy('id').execute();
  }

  async get(id: number, db: Conn = this.deps.db): Promise<FormRow> {
    const row = await db.selectFrom('forms').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw errors.notFound('form');
    return row;
  }

  /** The rules the schema cannot say: one required text subject, keys and mappings unique, options only on choices, custom properties that exist. */
  private async check(db: Conn, fields: FormFieldT[], inboxId: number | undefined, translations?: FormTranslationsT): Promise<void> {
    checkLanguages(translations);
    const problems: FieldError[] = [];
    const at = (i: number, field: string) => `/body/fields/${i}/${field}`;
    const subjects = fields.map((f, i) => [f, i] as const).filter(([f]) => f.maps === 'subject');
    if (subjects.length !== 1) problems.push({ path: '/body/fields', message: 'Let exactly one field fill the subject.' });
    for (const [f, i] of subjects) if (f.type !== 'text' || !f.required) problems.push({ path: at(i, 'maps'), message: 'The subject is filled by a required one-line text field: change this field, or let another fill the subject.' });
    const keys = new Set<string>();
    const maps = new Set<string>();
    const custom = new Map((await db.selectFrom('ticket_properties').select(['key', 'type', 'options']).execute()).map((p) => [p.key, p]));
    fields.forEach((f, i) => {
      if (keys.has(f.key)) problems.push({ path: at(i, 'key'), message: 'Another field has this key: give each field its own.' });
      keys.add(f.key);
      if (f.maps !== null) {
        if (maps.has(f.maps)) problems.push({ path: at(i, 'maps'), message: 'Another field fills this property: choose another.' });
        maps.add(f.maps);
        if (f.type === 'file') problems.push({ path: at(i, 'maps'), message: 'A file field fills no property (its files go with the message): choose none.' });
        if (f.maps.startsWith('properties.')) {
          const def = custom.get(f.maps.slice('properties.'.length));
          if (def === undefined) problems.push({ path: at(i, 'maps'), message: 'There is no such custom ticket property: add it in the ticket settings first.' });
          else if (def.type !== 'text' && def.type !== 'enumeration') problems.push({ path: at(i, 'maps'), message: 'A form fills only text properties and those with a list of options: choose another.' });
        }
      }
      if ((f.type === 'choice') !== (f.options !== undefined)) problems.push({ path: at(i, 'options'), message: f.type === 'choice' ? 'Add the options to choose from.' : 'Only a choice has options: leave this out.' });
    });
    for (const [language, byField] of Object.entries(translations ?? {})) {
      for (const [key, words] of Object.entries(byField)) {
        const at = `/body/translations/${language}/${key}`;
        const field = fields.find((f) => f.key === key);
        if (field === undefined) {
          problems.push({ path: at, label: 'Translations', message: 'The form has no field with this key: translate only its own fields.' });
          continue;
        }
        if (words.options === undefined) continue;
        if (field.options === undefined) problems.push({ path: `${at}/options`, label: 'Options', message: 'Only a choice has options: leave this out.' });
        else if (words.options.length > field.options.length) problems.push({ path: `${at}/options`, label: 'Options', message: `Give at most one text for each of the field’s ${field.options.length} options.` });
        const given = words.options.map((o) => o.trim()).filter((o) => o !== '');
        if (new Set(given).size !== given.length) problems.push({ path: `${at}/options`, label: 'Options', message: 'Give each option its own text: two say the same.' });
      }
    }
    if (inboxId !== undefined && (await db.selectFrom('inboxes').select('id').where('id', '=', inboxId).executeTakeFirst()) === undefined) {
      problems.push({ path: '/body/inboxId', message: `There is no inbox ${inboxId}: choose one that exists.` });
    }
    if (problems.length > 0) throw errors.validation(problems, 'The form cannot be used.');
  }

  async create(input: { name: string; inboxId: number; fields: FormFieldT[]; translations?: FormTranslationsT }): Promise<FormRow> {
    await this.check(this.deps.db, input.fields, input.inboxId, input.translations);
    const now = this.deps.clock.now();
    return this.deps.db.insertInto('forms').values({ name: input.name, inbox_id: input.inboxId, fields: JSON.stringify(input.fields), translations: storeTranslations(input.translations), created_at: now, updated_at: now }).returningAll().executeTakeFirstOrThrow();
  }

  async update(id: number, patch: { name?: string; inboxId?: number; fields?: FormFieldT[]; translations?: FormTranslationsT }): Promise<FormRow> {
    const current = await this.get(id);
    await this.check(this.deps.db, patch.fields ?? fieldsOf(current), patch.inboxId, patch.translations);
    return this.deps.db.updateTable('forms').set({
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.inboxId === undefined ? {} : { inbox_id: patch.inboxId }),
      ...(patch.fields === undefined ? {} : { fields: JSON.stringify(patch.fields) }),
      ...(patch.translations === undefined ? {} : { translations: storeTranslations(patch.translations) }),
      updated_at: this.deps.clock.now(),
    }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  async delete(id: number): Promise<void> {
    const r = await this.deps.db.deleteFrom('forms').where('id', '=', id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw errors.notFound('form');
  }

  /** What is wrong with these answers, field by field; empty when they can be submitted. */
  problems(form: FormRow, answers: Answers, files: Record<string, number>): FieldProblem[] {
    const out: FieldProblem[] = [];
    for (const f of fieldsOf(form)) {
      const value = (answers[f.key] ?? '').trim();
      if (f.type === 'file') {
        if (f.required && (files[f.key] ?? 0) === 0) out.push({ key: f.key, message: 'form.required' });
        continue;
      }
      if (value.includes('\u0000')) out.push({ key: f.key, message: 'form.badCharacter' });
      else if (f.required && value === '') out.push({ key: f.key, message: 'form.required' });
      else if (value.length > (f.type === 'textarea' ? MAX_TEXTAREA : MAX_TEXT)) out.push({ key: f.key, message: 'form.tooLong' });
      else if (f.type === 'choice' && value !== '' && !(f.options ?? []).includes(value)) out.push({ key: f.key, message: 'form.invalidChoice' });
    }
    return out;
  }

  /**
   * Files the answers as a ticket for `contactId` (associated with its primary company by the
   * ticket rules), with a thread in the form's inbox and the first message; returns the ticket id.
   */
  async submit(form: FormRow, contactId: number, answers: Answers, files: StoredUpload[]): Promise<number> {
    const fields = fieldsOf(form);
    const value = (f: FormFieldT) => (answers[f.key] ?? '').trim();
    const subject = value(fields.find((f) => f.maps === 'subject') ?? fields[0] as FormFieldT);
    const fixed = (name: 'description' | 'priority' | 'category') => {
      const f = fields.find((x) => x.maps === name);
      return f === undefined || value(f) === '' ? undefined : value(f);
    };
    const properties = Object.fromEntries(fields.filter((f) => f.maps?.startsWith('properties.') === true && value(f) !== '').map((f) => [(f.maps as string).slice('properties.'.length), value(f)]));
    // The message: the description, then every other answer the ticket has no place for, labelled.
    const description = fixed('description');
    const rest = fields.filter((f) => f.type !== 'file' && f.maps !== 'subject' && f.maps !== 'description' && value(f) !== '').map((f) => `${f.label}: ${value(f)}`);
    const text = [description ?? '', rest.join('\n')].filter((p) => p !== '').join('\n\n') || subject;
    return this.deps.db.transaction().execute(async (tx) => {
      const inbox = await tx.selectFrom('inboxes').select(['id', 'pipeline_id']).where('id', '=', form.inbox_id).executeTakeFirstOrThrow();
      const pipelineId = inbox.pipeline_id ?? (await tx.selectFrom('pipelines').select('id').orderBy('id').executeTakeFirst())?.id;
      if (pipelineId === undefined) throw new AppError(409, 'NO_PIPELINE', 'Tickets cannot be filed yet: there is no pipeline.');
      const ticket = await this.tickets.create({
        subject, pipelineId, contactIds: [contactId], source: 'form', properties,
        ...(description === undefined ? {} : { description }),
        ...(fixed('priority') === undefined ? {} : { priority: fixed('priority') }),
        ...(fixed('category') === undefined ? {} : { category: fixed('category') }),
      }, null, tx);
      const channel = await tx.selectFrom('channels').select('id').where('inbox_id', '=', inbox.id).where('type', '=', 'form').orderBy('id').executeTakeFirst();
      await this.conversations.createThreadIn(tx, {
        inboxId: inbox.id, channelId: channel?.id ?? null, ticketId: ticket.id, contactId, subject,
        message: { bodyText: text, files },
      }, { type: 'customer', contactId });
      return ticket.id;
    });
  }
}

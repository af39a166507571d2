import { ActionIcon, Button, Grid, Group, Paper, Select, Stack, Switch, Text, TextInput, Title, UnstyledButton } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { guarded } from '../components/guarded';
import { api, call, type Ok } from '../api/client';
import { useInboxes, useTicketProperties } from '../components/lookups';
import { ErrorNotice, Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { ALL_LANGUAGES, TranslationFields, translated, type TextTranslations, type TranslatedField } from '../components/translations';

type Form = Ok<'/api/v1/forms/{id}'>;
type Field = Form['fields'][number];
const route = getRouteApi('/forms');
const TYPES = [{ value: 'text', label: 'One line' }, { value: 'textarea', label: 'Long text' }, { value: 'choice', label: 'Choice' }, { value: 'file', label: 'Files' }];

/** Support forms (P25): fields mapped to ticket properties, each form filing into an inbox. */
export const FormsPage = guarded('manage_settings', 'Editing support forms', FormsScreen);

function FormsScreen() {
  usePageTitle('Support forms');
  const { form } = route.useSearch();
  const navigate = useNavigate({ from: '/forms' });
  const forms = useQuery({ queryKey: ['forms'], queryFn: () => call(api.GET('/api/v1/forms')) });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Support forms</Title>
        <Button onClick={() => void navigate({ search: { form: 'new' } })}>New form</Button>
      </Group>
      <Grid>
        <Grid.Col span={{ base: 12, md: 3 }}>
          <Loaded query={forms}>
            {(page) => (
              <Paper withBorder>
                {page.items.length === 0 && <Text p="md" c="dimmed">No forms yet.</Text>}
                {page.items.map((f) => (
                  <UnstyledButton key={f.id} className="thread-row" data-active={form === String(f.id)} w="100%" p="sm" style={{ borderBottom: '1px solid var(--mantine-color-gray-2)' }}
                    onClick={() => void navigate({ search: { form: String(f.id) } })}>
                    <Text size="sm" fw={600}>{f.name}</Text>
                    <Text size="xs" c="dimmed">{f.fields.length} fields</Text>
                  </UnstyledButton>
                ))}
              </Paper>
            )}
          </Loaded>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 9 }}>
          {form === undefined ? <Text c="dimmed">Choose a form, or make a new one.</Text> : <FormEditor key={form} id={form === 'new' ? null : Number(form)} />}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function FormEditor({ id }: { id: number | null }) {
  const existing = useQuery({ queryKey: ['form', id], queryFn: () => call(api.GET('/api/v1/forms/{id}', { params: { path: { id: id ?? 0 } } })), enabled: id !== null });
  if (id !== null) return <Loaded query={existing}>{(f) => <FormFields form={f} />}</Loaded>;
  return <FormFields form={null} />;
}

/** The list with item i one place earlier. */
function moveUp<T>(items: T[], i: number): T[] {
  if (i <= 0 || i >= items.length) return items;
  return [...items.slice(0, i - 1), ...items.slice(i, i + 1), ...items.slice(i - 1, i), ...items.slice(i + 1)];
}

const NEW_FIELDS: Field[] = [
  { key: 'subject', label: 'Subject', type: 'text', required: true, maps: 'subject' },
  { key: 'description', label: 'What happened?', type: 'textarea', required: true, maps: 'description' },
];

/** What customers read of a field, each text translatable: its label, its help, each choice. */
function shownTexts(f: Field, i: number): TranslatedField[] {
  return [
    { key: `${f.key}.label`, label: `Field ${i + 1} label`, primary: f.label },
    ...(f.help === undefined || f.help === '' ? [] : [{ key: `${f.key}.help`, label: `Field ${i + 1} help`, primary: f.help }]),
    ...(f.type === 'choice' ? (f.options ?? []).map((o, j) => ({ key: `${f.key}.option${j}`, label: `Field ${i + 1} choice “${o}”`, primary: o })) : []),
  ];
}

/** The form's translations as boxes: by language, `<field>.label`, `<field>.help`, `<field>.option<n>`. */
function wordsOf(form: Form | null): TextTranslations {
  const out: TextTranslations = {};
  for (const [language, byField] of Object.entries(form?.translations ?? {})) {
    const flat: Record<string, string> = {};
    for (const [key, t] of Object.entries(byField)) {
      if (t.label !== undefined) flat[`${key}.label`] = t.label;
      if (t.help !== undefined) flat[`${key}.help`] = t.help;
      (t.options ?? []).forEach((o, j) => { flat[`${key}.option${j}`] = o; });
    }
    out[language] = flat;
  }
  return out;
}

/** The boxes back as the API takes them (choices in the order of the field's own); empty ones are dropped by the server. */
function translationsOf(fields: Field[], words: TextTranslations): Form['translations'] {
  return Object.fromEntries(ALL_LANGUAGES.map((language) => [language, Object.fromEntries(fields.map((f) => [f.key, {
    label: translated(words, language, `${f.key}.label`),
    ...(f.help === undefined ? {} : { help: translated(words, language, `${f.key}.help`) }),
    ...(f.type === 'choice' ? { options: (f.options ?? []).map((_, j) => translated(words, language, `${f.key}.option${j}`)) } : {}),
  }]))]));
}

function FormFields({ form }: { form: Form | null }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate({ from: '/forms' });
  const inboxes = useInboxes();
  const properties = useTicketProperties();
  const [name, setName] = useState(form?.name ?? '');
  const [inboxId, setInboxId] = useState<string | null>(form === null ? null : String(form.inboxId));
  const [fields, setFields] = useState<Field[]>(form?.fields ?? NEW_FIELDS);
  const maps = [
    { value: '', label: 'Nothing (goes into the message)' },
    { value: 'subject', label: 'Subject' }, { value: 'description', label: 'Description' }, { value: 'priority', label: 'Priority' }, { value: 'category', label: 'Category' },
    ...(properties.data ?? []).map((p) => ({ value: `properties.${p.key}`, label: `Property: ${p.label}` })),
  ];
  const set = (i: number, patch: Partial<Field>) => setFields(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  const [words, setWords] = useState<TextTranslations>(() => wordsOf(form));
  const save = useMutation({
    mutationFn: () => {
      const body = { name, inboxId: Number(inboxId), fields, translations: translationsOf(fields, words) };
      return form === null ? call(api.POST('/api/v1/forms', { body })) : call(api.PATCH('/api/v1/forms/{id}', { params: { path: { id: form.id } }, body }));
    },
    onSuccess: (f) => {
      queryClient.setQueryData(['form', f.id], f);
      void queryClient.invalidateQueries({ queryKey: ['forms'] });
      if (form === null) void navigate({ search: { form: String(f.id) } });
    },
  });
  return (
    <Paper withBorder p="md">
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Stack gap="sm">
          <Title order={3} size="h4">{form === null ? 'New form' : form.name}</Title>
          <Group grow>
            <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <Select label="Files tickets into the inbox" required data={(inboxes.data ?? []).map((i) => ({ value: String(i.id), label: i.name }))} value={inboxId} onChange={setInboxId} />
          </Group>
          <Text size="sm" fw={600}>Fields, in order (exactly one required one-line field fills the subject)</Text>
          {fields.map((f, i) => (
            <Paper key={i} withBorder p="sm" bg="gray.0">
              <Group align="flex-end" gap="xs">
                <TextInput label={`Field ${i + 1} label`} value={f.label} onChange={(e) => set(i, { label: e.currentTarget.value })} style={{ flex: '2 1 240px' }} />
                <TextInput label={`Field ${i + 1} short name`} value={f.key} onChange={(e) => set(i, { key: e.currentTarget.value })} style={{ flex: '1 1 160px' }} />
                <Select label={`Field ${i + 1} type`} data={TYPES} value={f.type} allowDeselect={false} w={130}
                  onChange={(v) => { const type = (v ?? 'text') as Field['type']; set(i, type === 'choice' ? { type, options: f.options ?? ['Option 1'] } : { type, options: undefined }); }} />
                <Select label={`Field ${i + 1} fills`} data={maps} value={f.maps ?? ''} allowDeselect={false} w={220} onChange={(v) => set(i, { maps: v === '' || v === null ? null : (v) })} />
                <Switch label="Required" checked={f.required} onChange={(e) => set(i, { required: e.currentTarget.checked })} mb={8} />
                <ActionIcon variant="default" size="lg" aria-label={`Move field ${i + 1} up`} disabled={i === 0} onClick={() => setFields(moveUp(fields, i))}>↑</ActionIcon>
                <ActionIcon variant="default" size="lg" aria-label={`Remove field ${i + 1}`} onClick={() => setFields(fields.filter((_, j) => j !== i))}>×</ActionIcon>
              </Group>
              {f.type === 'choice' && (
                <TextInput mt="xs" label={`Field ${i + 1} choices (comma separated)`} value={(f.options ?? []).join(', ')}
                  onChange={(e) => set(i, { options: e.currentTarget.value.split(',').map((o) => o.trim()).filter((o) => o !== '') })} />
              )}
            </Paper>
          ))}
          <Group>
            <Button variant="default" size="xs" disabled={fields.length >= 30} onClick={() => setFields([...fields, { key: `field_${fields.length + 1}`, label: 'New field', type: 'text', required: false, maps: null }])}>Add a field</Button>
          </Group>
          <Text size="sm" fw={600}>In other languages</Text>
          <TranslationFields languages={ALL_LANGUAGES} value={words} onChange={setWords} fields={fields.flatMap((f, i) => shownTexts(f, i))} />
          <ErrorNotice error={save.error} title="Not saved" />
          {save.isSuccess && <Text size="sm" c="teal.9" role="status">Saved. {form === null ? '' : 'Connect it to a portal under Customer portal → Support form.'}</Text>}
          <Group><Button type="submit" loading={save.isPending}>Save form</Button></Group>
        </Stack>
      </form>
    </Paper>
  );
}

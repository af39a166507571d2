import { Alert, Anchor, NativeSelect, Button, Checkbox, ColorInput, FileInput, Group, List, MultiSelect, NumberInput, Paper, Radio, Select, Stack, Switch, Table, Tabs, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useEffect, useState, type ReactNode } from 'react';
import { guarded } from '../components/guarded';
import { ApiError, api, call, uploadPortalLogo, type Portal, type PortalUpdate } from '../api/client';
import { FilterEditor } from '../components/filter-editor';
import { contactName, useInboxes, useLists, when } from '../components/lookups';
import { ErrorNotice, Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { useConfirm } from '../components/confirm';
import { word, LIST_KIND_WORDS } from '../components/words';
import { TranslationFields, translated, type TextTranslations } from '../components/translations';
import { SignInLogTab } from './portal-sign-in-log';
import { SsoProviders } from './portal-sso';

const route = getRouteApi('/portals/$portalId');
const SECTIONS = [{ value: 'general', label: 'General' }, { value: 'access', label: 'Sign-in and access' }, { value: 'sign-in-log', label: 'Sign-in log' }, { value: 'members', label: 'Members' }, { value: 'consent', label: 'Consent' }, { value: 'tickets', label: 'Tickets' }, { value: 'templates', label: 'Templates' }, { value: 'wording', label: 'Wording' }, { value: 'branding', label: 'Branding and menu' }, { value: 'form', label: 'Support form' }, { value: 'preview', label: 'View portal' }];
const TABS = ['general', 'access', 'sign-in-log', 'members', 'consent', 'tickets', 'templates', 'wording', 'branding', 'form', 'preview'] as const;

/** Every setting of one customer portal (P4, P5, P21-P23, P26, P28), each tab saved on its own. */
export const PortalSettingsPage = guarded('portal_settings', 'Customer portal settings', PortalSettingsPageScreen);

function PortalSettingsPageScreen() {
  const { portalId } = route.useParams();
  const { tab } = route.useSearch();
  const navigate = useNavigate({ from: '/portals/$portalId' });
  const id = Number(portalId);
  const portal = useQuery({ queryKey: ['portal', id], queryFn: () => call(api.GET('/api/v1/portals/{id}', { params: { path: { id } } })) });
  usePageTitle(portal.data === undefined ? 'Customer portal' : `${portal.data.name}: portal settings`);
  const current = TABS.includes(tab as (typeof TABS)[number]) ? (tab as string) : 'general';
  return (
    <Loaded query={portal}>
      {(p) => (
        <Stack>
          <Group justify="space-between" align="flex-start">
            <div>
              <Title order={2}>{p.name}</Title>
              {p.url === null
                ? <Text size="sm" c="dimmed">No domain yet: set one under General.</Text>
                : <Anchor href={p.url} target="_blank" rel="noopener" size="sm">{p.url}</Anchor>}
            </div>
            <EnableSwitch portal={p} />
          </Group>
          <Tabs value={current} onChange={(v) => void navigate({ search: { tab: v ?? undefined }, replace: true })} keepMounted={false}>
            <NativeSelect hiddenFrom="sm" label="Section" value={current} mb="xs" onChange={(e) => void navigate({ search: { tab: e.currentTarget.value }, replace: true })}
              data={SECTIONS} />
            <Tabs.List visibleFrom="sm">
              <Tabs.Tab value="general">General</Tabs.Tab>
              <Tabs.Tab value="access">Sign-in and access</Tabs.Tab>
              <Tabs.Tab value="sign-in-log">Sign-in log</Tabs.Tab>
              <Tabs.Tab value="members">Members</Tabs.Tab>
              <Tabs.Tab value="consent">Consent</Tabs.Tab>
              <Tabs.Tab value="tickets">Tickets</Tabs.Tab>
              <Tabs.Tab value="templates">Templates</Tabs.Tab>
              <Tabs.Tab value="wording">Wording</Tabs.Tab>
              <Tabs.Tab value="branding">Branding and menu</Tabs.Tab>
              <Tabs.Tab value="form">Support form</Tabs.Tab>
              <Tabs.Tab value="preview">View portal</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="general" pt="md"><GeneralTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="access" pt="md"><AccessTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="sign-in-log" pt="md"><SignInLogTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="members" pt="md"><MembersTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="consent" pt="md"><ConsentTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="tickets" pt="md"><TicketsTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="templates" pt="md"><TemplatesTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="wording" pt="md"><WordingTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="branding" pt="md"><BrandingTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="form" pt="md"><FormTab portal={p} /></Tabs.Panel>
            <Tabs.Panel value="preview" pt="md"><PreviewTab portal={p} /></Tabs.Panel>
          </Tabs>
        </Stack>
      )}
    </Loaded>
  );
}

/** PATCH the portal with some settings; the answer replaces the cached portal. */
function useSave(portal: Portal) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: PortalUpdate) => call(api.PATCH('/api/v1/portals/{id}', { params: { path: { id: portal.id } }, body })),
    onSuccess: (p) => {
      queryClient.setQueryData(['portal', portal.id], p);
      void queryClient.invalidateQueries({ queryKey: ['portals'] });
    },
  });
}

/** The languages the portal offers besides its primary one: where its own text needs translating. */
function otherLanguages(portal: Portal): Portal['languages'] {
  return portal.languages.filter((l) => l !== portal.language);
}

/** The portal's translations with one tab's edits laid over them (the API replaces them all at once). */
function mergedTranslations(portal: Portal, edits: TextTranslations): Portal['translations'] {
  const out: Portal['translations'] = { ...portal.translations };
  for (const [language, fields] of Object.entries(edits)) out[language] = { ...out[language], ...fields };
  return out;
}

function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(field) : undefined;
}

/** A tab's form: its fields, a Save button, what the API said. */
function Section({ title, onSave, save, busy = false, children }: { title: string; onSave: () => void; save: ReturnType<typeof useSave>; busy?: boolean; children: ReactNode }) {
  return (
    <Paper withBorder p="md" maw={820}>
      <form onSubmit={(e) => { e.preventDefault(); onSave(); }}>
        <Stack gap="sm">
          <Title order={3} size="h4">{title}</Title>
          {children}
          {save.error !== null && <ErrorNotice error={save.error} title="Not saved" />}
          {save.isSuccess && <Text size="sm" c="teal.9" role="status">Saved.</Text>}
          <Group><Button type="submit" loading={save.isPending || busy}>Save</Button></Group>
        </Stack>
      </form>
    </Paper>
  );
}

/** The enable switch (P26) and the checklist of what is still missing (P4). */
function EnableSwitch({ portal }: { portal: Portal }) {
  const save = useSave(portal);
  const [confirmation, confirm] = useConfirm();
  const change = async (enabled: boolean) => {
    if (!enabled && !(await confirm({
      title: 'Turn the portal off?',
      message: `Customers can no longer sign in${portal.url === null ? '' : ` at ${portal.url}`} or see their tickets, and whoever is signed in is signed out at their next click. Nothing is deleted: turning it on again brings everything back.`,
      confirmLabel: 'Turn the portal off',
      danger: true,
    }))) return;
    save.mutate({ enabled });
  };
  return (
    <Paper withBorder p="sm" miw={300}>
      {confirmation}
      <Switch label={portal.enabled ? 'Portal is enabled' : 'Portal is off'} checked={portal.enabled} disabled={!portal.enabled && portal.missing.length > 0}
        onChange={(e) => void change(e.currentTarget.checked)} size="md" />
      {!portal.enabled && portal.missing.length > 0 && (
        <Stack gap={4} mt="xs">
          <Text size="sm" fw={500}>Before it can be enabled:</Text>
          <List size="sm" aria-label="Still missing">{portal.missing.map((m) => <List.Item key={m}>{m}</List.Item>)}</List>
        </Stack>
      )}
      {save.error !== null && <ErrorNotice error={save.error} title="Not changed" />}
    </Paper>
  );
}

function GeneralTab({ portal }: { portal: Portal }) {
  const save = useSave(portal);
  const languages = useQuery({ queryKey: ['languages'], queryFn: () => call(api.GET('/api/v1/languages')), staleTime: Infinity });
  const [d, setD] = useState({ name: portal.name, title: portal.title, domain: portal.domain ?? '', slug: portal.slug, language: portal.language, languages: portal.languages, timeZone: portal.timeZone, idleTimeoutMinutes: portal.idleTimeoutMinutes });
  const options = (languages.data?.items ?? []).map((l) => ({ value: l.code, label: l.name }));
  const [words, setWords] = useState<TextTranslations>(portal.translations);
  return (
    <Section title="General" save={save} onSave={() => save.mutate({ ...d, domain: d.domain.trim() === '' ? null : d.domain.trim(), languages: d.languages.includes(d.language) ? d.languages : [d.language, ...d.languages], translations: mergedTranslations(portal, words) })}>
      <TextInput label="Name (in the header, on pages before sign-in and in emails)" value={d.name} onChange={(e) => setD({ ...d, name: e.currentTarget.value })} error={fieldError(save.error, 'name')} />
      <TextInput label="Title (shown to customers)" description="The browser tab's title once they have signed in" value={d.title} onChange={(e) => setD({ ...d, title: e.currentTarget.value })} error={fieldError(save.error, 'title')} />
      <TextInput label="Domain" description="The host customers visit, such as support.example.com (point its DNS at Portico)" value={d.domain} onChange={(e) => setD({ ...d, domain: e.currentTarget.value })} error={fieldError(save.error, 'domain')} />
      <TextInput label="Slug" description="The first part of every portal address" value={d.slug} onChange={(e) => setD({ ...d, slug: e.currentTarget.value })} error={fieldError(save.error, 'slug')} />
      <Select label="Primary language" data={options} value={d.language} allowDeselect={false} onChange={(v) => v !== null && setD({ ...d, language: v })} />
      <MultiSelect label="Languages offered" data={options} value={d.languages} onChange={(v) => setD({ ...d, languages: v })} searchable />
      <TextInput label="Time zone" description="IANA name, such as Europe/Warsaw" value={d.timeZone} onChange={(e) => setD({ ...d, timeZone: e.currentTarget.value })} error={fieldError(save.error, 'timeZone')} />
      <NumberInput label="Idle timeout (minutes)" description="A customer who does nothing for this long is signed out. At least 5 minutes." min={5} clampBehavior="none" value={d.idleTimeoutMinutes} onChange={(v) => setD({ ...d, idleTimeoutMinutes: typeof v === 'number' ? v : Number(v) })} error={fieldError(save.error, 'idleTimeoutMinutes')} />
      <TranslationFields languages={otherLanguages(portal)} value={words} onChange={setWords}
        fields={[{ key: 'name', label: 'Name', primary: d.name }, { key: 'title', label: 'Title', primary: d.title }]} />
    </Section>
  );
}

function AccessTab({ portal }: { portal: Portal }) {
  const save = useSave(portal);
  const lists = useLists();
  const listOptions = (lists.data ?? []).map((l) => ({ value: String(l.id), label: `${l.name} (${word(LIST_KIND_WORDS, l.kind).toLowerCase()})` }));
  const [d, setD] = useState({ signInMethods: portal.signInMethods, selfRegistration: portal.selfRegistration, accessListIds: portal.accessListIds.map(String), ssoAudience: portal.ssoAudience, ssoListIds: portal.ssoListIds.map(String) });
  const [confirmation, confirm] = useConfirm();
  const [checking, setChecking] = useState(false);
  // Lists that shut out members who can sign in today are saved only once the admin has seen who.
  const onSave = async () => {
    const accessListIds = d.accessListIds.map(Number);
    setChecking(true);
    try {
      const losing = await call(api.POST('/api/v1/portals/{id}/members-losing-access', { params: { path: { id: portal.id } }, body: { accessListIds } }));
      if (losing.count > 0 && !(await confirm({
        title: losing.count === 1 ? 'One member would lose access' : `${losing.count.toLocaleString()} members would lose access`,
        message: (
          <Stack gap="xs">
            <Text size="sm">They are on none of the chosen lists. Saving signs them out at once, and they cannot sign in again until they are on one of the lists:</Text>
            <List size="sm">{losing.first.map((m) => <List.Item key={m.email}>{m.name === m.email ? m.email : `${m.name} (${m.email})`}</List.Item>)}</List>
            {losing.count > losing.first.length && <Text size="sm">and {(losing.count - losing.first.length).toLocaleString()} more.</Text>}
          </Stack>
        ),
        confirmLabel: 'Save and lock them out',
        danger: true,
      }))) return;
    } catch {
      // The save below reports what is wrong with the lists.
    } finally {
      setChecking(false);
    }
    save.mutate({ ...d, accessListIds, ssoListIds: d.ssoListIds.map(Number) });
  };
  const listsSet = d.accessListIds.length > 0;
  return (
    <Stack>
      {confirmation}
      <Section title="Sign-in and access" save={save} busy={checking} onSave={() => void onSave()}>
        <Checkbox.Group label="Sign-in methods" value={d.signInMethods} onChange={(v) => setD({ ...d, signInMethods: v })} error={fieldError(save.error, 'signInMethods')}>
          <Stack gap={6} mt={6}>
            <Checkbox value="password" label="Email and password" />
            <Checkbox value="magic_link" label="A sign-in link by email (magic link)" />
            <Checkbox value="sso" label="Single sign-on (the providers below)" />
          </Stack>
        </Checkbox.Group>
        <MultiSelect label="Contact lists with access" description="When any are chosen, only their contacts may sign in; each gets an invitation to set a password" data={listOptions} value={d.accessListIds} onChange={(v) => setD({ ...d, accessListIds: v })} searchable clearable />
        <Switch label="Customers may register themselves (they give consent and confirm their email)" checked={d.selfRegistration && !listsSet} disabled={listsSet}
          description={listsSet ? 'Not offered while contact lists decide who may sign in: the portal shows no registration link, and the people on the lists get invitations instead.' : undefined}
          onChange={(e) => setD({ ...d, selfRegistration: e.currentTarget.checked })} />
        <Radio.Group label="Who may sign in by single sign-on" value={d.ssoAudience} onChange={(v) => setD({ ...d, ssoAudience: v })}>
          <Group mt={6}><Radio value="all" label="Everyone the identity provider signs in" /><Radio value="lists" label="Only contacts on these lists" /></Group>
        </Radio.Group>
        {d.ssoAudience === 'lists' && <MultiSelect label="Single sign-on lists" data={listOptions} value={d.ssoListIds} onChange={(v) => setD({ ...d, ssoListIds: v })} searchable />}
      </Section>
      <SsoProviders portal={portal} />
    </Stack>
  );
}

function ConsentTab({ portal }: { portal: Portal }) {
  const save = useSave(portal);
  const [text, setText] = useState(portal.consentText ?? '');
  const [label, setLabel] = useState(portal.consentLabel ?? '');
  const [words, setWords] = useState<TextTranslations>(portal.translations);
  return (
    <Section title="Consent to process data" save={save} onSave={() => save.mutate({ consentText: text.trim() === '' ? null : text, consentLabel: label.trim() === '' ? null : label, translations: mergedTranslations(portal, words) })}>
      <Textarea label="Consent notice" description="Shown when customers register; Markdown-style links such as [privacy policy](https://example.com/privacy) work" autosize minRows={4} value={text} onChange={(e) => setText(e.currentTarget.value)} error={fieldError(save.error, 'consentText')} />
      <TextInput label="Checkbox label" value={label} onChange={(e) => setLabel(e.currentTarget.value)} error={fieldError(save.error, 'consentLabel')} />
      <TranslationFields languages={otherLanguages(portal)} value={words} onChange={setWords}
        fields={[{ key: 'consentText', label: 'Consent notice', primary: text, long: true }, { key: 'consentLabel', label: 'Checkbox label', primary: label }]} />
    </Section>
  );
}

function TicketsTab({ portal }: { portal: Portal }) {
  const save = useSave(portal);
  const inboxes = useInboxes();
  const [d, setD] = useState({ scope: portal.scope, filters: portal.filters, defaultInboxId: portal.defaultInboxId === null ? '' : String(portal.defaultInboxId), showCustomStages: portal.showCustomStages });
  const [filters] = useDebouncedValue(d.filters, 300);
  const matching = useQuery({
    queryKey: ['matching-tickets', portal.id, filters],
    queryFn: () => call(api.POST('/api/v1/portals/{id}/matching-tickets', { params: { path: { id: portal.id } }, body: { filters } })),
    retry: false,
  });
  return (
    <Section title="Which tickets customers see" save={save} onSave={() => save.mutate({ scope: d.scope, filters: d.filters, defaultInboxId: d.defaultInboxId === '' ? null : Number(d.defaultInboxId), showCustomStages: d.showCustomStages })}>
      <Radio.Group label="Ticket permissions" value={d.scope} onChange={(v) => setD({ ...d, scope: v })}>
        <Stack gap={6} mt={6}>
          <Radio value="contact" label="Customers see only tickets associated with their own contact" />
          <Radio value="company" label="Customers also see every ticket of their primary company (with a View menu: organisation or mine)" />
        </Stack>
      </Radio.Group>
      <FilterEditor entity="tickets" label="Conditions" description="Only tickets that meet every condition appear on the portal." value={d.filters} onChange={(filters) => setD({ ...d, filters })} />
      <Text size="sm" role="status" aria-live="polite" data-testid="matching-count">
        {matching.isPending ? 'Counting…' : matching.error !== null ? `These conditions are not complete yet: ${matching.error instanceof ApiError ? (matching.error.problem.errors?.[0]?.message ?? matching.error.message) : matching.error.message}` : `${matching.data.matching.toLocaleString()} of ${matching.data.total.toLocaleString()} tickets match right now.`}
      </Text>
      <Select label="Default inbox (for customer replies to tickets that have no thread)" data={[{ value: '', label: 'None' }, ...(inboxes.data ?? []).map((i) => ({ value: String(i.id), label: i.name }))]} value={d.defaultInboxId} allowDeselect={false} onChange={(v) => setD({ ...d, defaultInboxId: v ?? '' })} />
      <Switch label="Show custom stage names instead of Open and Closed" checked={d.showCustomStages} onChange={(e) => setD({ ...d, showCustomStages: e.currentTarget.checked })} />
    </Section>
  );
}

/** The portal's templates as an admin knows them: by the page they make. */
const TEMPLATE_LABELS: Record<string, string> = {
  layout: 'Layout (the header and style of every page)', home: 'Home page', search: 'Search results', 'sign-in': 'Sign-in page',
  tickets: 'Ticket list', ticket: 'Ticket page', 'new-ticket': 'Support form', kb: 'Knowledge base', 'kb-article': 'Knowledge base article',
  error: 'Error and not-found page', notice: 'Notice (“Check your email” and the like)', confirm: 'Button to follow an emailed link',
  'password-reset': 'Forgotten password', 'password-set': 'Choose a password', 'change-email': 'Change email address', register: 'Registration',
  'access-denied': 'Access denied', 'email-html': 'Emails (formatted)', 'email-text': 'Emails (plain text)',
};
const templateLabel = (name: string) => TEMPLATE_LABELS[name] ?? name;

function TemplatesTab({ portal }: { portal: Portal }) {
  const queryClient = useQueryClient();
  const templates = useQuery({ queryKey: ['templates', portal.id], queryFn: () => call(api.GET('/api/v1/portals/{id}/templates', { params: { path: { id: portal.id } } })) });
  const [name, setName] = useState<string>('tickets');
  const template = templates.data?.items.find((t) => t.name === name);
  const [source, setSource] = useState<string | null>(null);
  useEffect(() => setSource(null), [name]);
  const text = source ?? template?.source ?? '';
  const [debounced] = useDebouncedValue(text, 400);
  const preview = useQuery({
    queryKey: ['template-preview', portal.id, name, debounced],
    queryFn: () => call(api.POST('/api/v1/portals/{id}/templates/{name}/preview', { params: { path: { id: portal.id, name: name as 'tickets' } }, body: { source: debounced } })),
    enabled: template !== undefined,
    retry: false,
    placeholderData: (previous) => previous,
  });
  const refresh = () => { setSource(null); void queryClient.invalidateQueries({ queryKey: ['templates', portal.id] }); };
  const save = useMutation({ mutationFn: () => call(api.PUT('/api/v1/portals/{id}/templates/{name}', { params: { path: { id: portal.id, name: name as 'tickets' } }, body: { source: text } })), onSuccess: refresh });
  const reset = useMutation({ mutationFn: () => call(api.DELETE('/api/v1/portals/{id}/templates/{name}', { params: { path: { id: portal.id, name: name as 'tickets' } } })), onSuccess: refresh });
  const [confirmation, confirm] = useConfirm();
  const revert = async () => {
    if (await confirm({
      title: `Go back to the default template for “${templateLabel(name)}”?`,
      message: 'The portal\'s own version of this template is deleted, with every change made to it, and customers see the default at once. This cannot be undone: copy the source first if you may want it again.',
      confirmLabel: 'Delete our version',
      danger: true,
    })) reset.mutate();
  };
  // The preview shows the page as customers get it: the theme's style sheet and the portal's
  // colours inline (a sandboxed frame has no origin to fetch them from), and no scripts at all.
  const css = useQuery({ queryKey: ['portal-css'], queryFn: async () => (await fetch('/app/portal.css')).text(), staleTime: Infinity });
  const colours = [['--primary', portal.branding.primaryColor], ['--accent', portal.branding.accentColor]].filter(([, v]) => typeof v === 'string' && /^#[0-9a-fA-F]{6}$/.test(v)).map(([k, v]) => `${k ?? ''}: ${v ?? ''};`).join(' ');
  const html = (preview.data?.html ?? '')
    .replace(/<link[^>]+portal\.css[^>]*>/, () => `<style>${css.data ?? ''}</style>`)
    .replace(/<link[^>]+brand\.css[^>]*>/, () => `<style>:root { ${colours} }</style>`);
  return (
    <Loaded query={templates}>
      {(page) => (
        <Stack>
          {confirmation}
          <Text size="sm" c="dimmed">Pages are Liquid templates. The layout holds the header and the style every page shares: a change there restyles the list, the ticket and the form at once.</Text>
          <Group align="flex-end">
            <Select label="Template" data={page.items.map((t) => ({ value: t.name, label: `${templateLabel(t.name)}${t.custom ? ' (changed)' : ''}` }))} value={name} allowDeselect={false} onChange={(v) => v !== null && setName(v)} w={260} />
            <Button onClick={() => save.mutate()} loading={save.isPending} disabled={source === null}>Save template</Button>
            <Button variant="default" onClick={() => void revert()} loading={reset.isPending} disabled={template?.custom !== true}>Back to the default</Button>
          </Group>
          <ErrorNotice error={save.error ?? reset.error} title="Not saved" />
          <Group align="flex-start" grow>
            <Textarea className="code-editor" label={`Source of “${templateLabel(name)}”`} autosize minRows={24} maxRows={40} value={text} onChange={(e) => setSource(e.currentTarget.value)} spellCheck={false} />
            <Stack gap={4}>
              <Text size="sm" fw={500}>Preview with sample data</Text>
              {preview.error !== null ? <ErrorNotice error={preview.error} title="This template does not render" /> : null}
              <iframe title="Template preview" className="template-preview" sandbox="" srcDoc={html} />
            </Stack>
          </Group>
        </Stack>
      )}
    </Loaded>
  );
}

/** The uploaded logo (P22): shown, replaced, removed. It wins over a logo address. */
function LogoUpload({ portal }: { portal: Portal }) {
  const queryClient = useQueryClient();
  const done = (p: Portal) => { queryClient.setQueryData(['portal', portal.id], p); };
  const upload = useMutation({ mutationFn: (file: File) => uploadPortalLogo(portal.id, file), onSuccess: done });
  const remove = useMutation({ mutationFn: () => call(api.DELETE('/api/v1/portals/{id}/logo', { params: { path: { id: portal.id } } })), onSuccess: done });
  const sha = portal.branding.logoFile?.sha256;
  return (
    <Paper withBorder p="md" maw={820}>
      <Stack gap="sm">
        <Title order={3} size="h4">Logo</Title>
        {sha === undefined
          ? <Text size="sm" c="dimmed">No uploaded logo: the portal shows its name{portal.branding.logoUrl ? ', or the logo address below' : ''}.</Text>
          : <Group><img src={`/api/v1/portals/${portal.id}/logo?v=${sha}`} alt={`${portal.name} logo`} style={{ maxHeight: 48, background: 'var(--mantine-color-gray-1)', padding: 4, borderRadius: 4 }} /><Button variant="subtle" color="red" onClick={() => remove.mutate()} loading={remove.isPending}>Remove the logo</Button></Group>}
        <FileInput label="Upload a logo" description="PNG, JPEG, GIF or WebP, at most 1 MB; it replaces the logo address" accept="image/png,image/jpeg,image/gif,image/webp" clearable={false}
          onChange={(file) => { if (file !== null) upload.mutate(file); }} disabled={upload.isPending} />
        <ErrorNotice error={upload.error ?? remove.error} title="Logo not changed" />
      </Stack>
    </Paper>
  );
}

/** The portal's own wording of any customer-facing message, per language (X1): ICU MessageFormat, checked by the API. */
function WordingTab({ portal }: { portal: Portal }) {
  const queryClient = useQueryClient();
  const [language, setLanguage] = useState<Portal['language']>(portal.language);
  const [filter, setFilter] = useState('');
  const [edits, setEdits] = useState<Record<string, string | null>>({});
  const key = ['portal-messages', portal.id, language];
  const messages = useQuery({ queryKey: key, queryFn: () => call(api.GET('/api/v1/portals/{id}/messages/{language}', { params: { path: { id: portal.id, language } } })) });
  const save = useMutation({
    mutationFn: () => call(api.PATCH('/api/v1/portals/{id}/messages/{language}', { params: { path: { id: portal.id, language } }, body: { messages: edits } })),
    onSuccess: (m) => { queryClient.setQueryData(key, m); setEdits({}); },
  });
  const needle = filter.trim().toLowerCase();
  const languageNames = useQuery({ queryKey: ['languages'], queryFn: () => call(api.GET('/api/v1/languages')), staleTime: Infinity });
  return (
    <Stack maw={1000}>
      <Text size="sm" c="dimmed">Every message customers read, in each language the portal offers. Leave a message empty to use Portico’s own; values in braces, such as {'{count}'}, are filled in.</Text>
      <Group align="flex-end">
        <Select label="Language" data={portal.languages.map((l) => ({ value: l, label: languageNames.data?.items.find((x) => x.code === l)?.name ?? l }))} value={language} allowDeselect={false} onChange={(v) => { if (v !== null) { setLanguage(v); setEdits({}); } }} w={160} />
        <TextInput label="Find a message" type="search" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} w={320} />
        <Button onClick={() => save.mutate()} loading={save.isPending} disabled={Object.keys(edits).length === 0}>{Object.keys(edits).length === 1 ? 'Save 1 change' : Object.keys(edits).length === 0 ? 'Save changes' : `Save ${Object.keys(edits).length} changes`}</Button>
      </Group>
      <ErrorNotice error={save.error} title="Not saved" />
      {save.isSuccess && <Text size="sm" c="teal.9" role="status">Saved.</Text>}
      <Loaded query={messages}>
        {(m) => (
          <Table>
            <Table.Thead><Table.Tr><Table.Th w="35%">Portico’s message</Table.Th><Table.Th>This portal’s</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {m.items.filter((i) => needle === '' || i.key.toLowerCase().includes(needle) || i.default.toLowerCase().includes(needle) || (i.override ?? '').toLowerCase().includes(needle)).slice(0, 60).map((i) => {
                const value = i.key in edits ? (edits[i.key] ?? '') : (i.override ?? '');
                return (
                  <Table.Tr key={i.key}>
                    <Table.Td><Text size="xs" c="dimmed">{i.key}</Text><Text size="sm">{i.default}</Text></Table.Td>
                    <Table.Td>
                      <TextInput aria-label={`Wording of ${i.key}`} value={value} placeholder="Portico’s message" onChange={(e) => { const v = e.currentTarget.value; setEdits({ ...edits, [i.key]: v.trim() === '' ? null : v }); }} />
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
    </Stack>
  );
}

function BrandingTab({ portal }: { portal: Portal }) {
  return <Stack><LogoUpload portal={portal} /><BrandingForm portal={portal} /></Stack>;
}

function BrandingForm({ portal }: { portal: Portal }) {
  const save = useSave(portal);
  const b = portal.branding;
  const [d, setD] = useState({ logoUrl: b.logoUrl ?? '', faviconUrl: b.faviconUrl ?? '', primaryColor: b.primaryColor ?? '', accentColor: b.accentColor ?? '' });
  const [menu, setMenu] = useState(portal.menu);
  // Each other language's menu labels, in the menu's order.
  const others = otherLanguages(portal);
  const [labels, setLabels] = useState<Record<string, string[]>>(() => Object.fromEntries(others.map((l) => [l, portal.translations[l]?.menuLabels ?? []])));
  const labelView: TextTranslations = Object.fromEntries(others.map((l) => [l, Object.fromEntries(menu.map((_, i) => [`link${i}`, labels[l]?.[i] ?? '']))]));
  const removeLink = (i: number) => {
    setMenu(menu.filter((_, j) => j !== i));
    setLabels(Object.fromEntries(Object.entries(labels).map(([l, list]) => [l, list.filter((_, j) => j !== i)])));
  };
  const orNull = (v: string) => (v.trim() === '' ? null : v.trim());
  return (
    <Section title="Branding and navigation menu" save={save}
      onSave={() => save.mutate({ branding: { logoUrl: orNull(d.logoUrl), faviconUrl: orNull(d.faviconUrl), primaryColor: orNull(d.primaryColor), accentColor: orNull(d.accentColor) }, menu,
        translations: mergedTranslations(portal, Object.fromEntries(others.map((l) => [l, { menuLabels: menu.map((_, i) => labels[l]?.[i] ?? '') }]))) })}>
      <TextInput label="Logo address (https)" value={d.logoUrl} onChange={(e) => setD({ ...d, logoUrl: e.currentTarget.value })} error={fieldError(save.error, 'branding')} />
      <TextInput label="Favicon address (https)" value={d.faviconUrl} onChange={(e) => setD({ ...d, faviconUrl: e.currentTarget.value })} />
      <Group grow>
        <ColorInput label="Primary colour" format="hex" eyeDropperButtonProps={{ "aria-label": "Pick the primary colour from the screen" }} value={d.primaryColor} onChange={(v) => setD({ ...d, primaryColor: v })} />
        <ColorInput label="Accent colour" format="hex" eyeDropperButtonProps={{ "aria-label": "Pick the accent colour from the screen" }} value={d.accentColor} onChange={(v) => setD({ ...d, accentColor: v })} />
      </Group>
      <Text size="sm" fw={500}>Navigation menu</Text>
      {menu.map((item, i) => (
        <Group key={i} gap="xs" align="flex-end">
          <TextInput label={`Link ${i + 1} label`} value={item.label} onChange={(e) => { const label = e.currentTarget.value; setMenu(menu.map((m, j) => (j === i ? { ...m, label } : m))); }} />
          <TextInput label={`Link ${i + 1} address`} placeholder="https://… or /path" value={item.url} style={{ flex: 1 }} onChange={(e) => { const url = e.currentTarget.value; setMenu(menu.map((m, j) => (j === i ? { ...m, url } : m))); }} />
          <Button variant="subtle" color="red" onClick={() => removeLink(i)}>Remove</Button>
        </Group>
      ))}
      {fieldError(save.error, 'menu') !== undefined && <Text c="red" size="sm">{fieldError(save.error, 'menu')}</Text>}
      <Group><Button variant="default" size="xs" onClick={() => setMenu([...menu, { label: '', url: '' }])} disabled={menu.length >= 10}>Add a link</Button></Group>
      {menu.length > 0 && (
        <TranslationFields languages={others} value={labelView} fields={menu.map((m, i) => ({ key: `link${i}`, label: `Link ${i + 1} label`, primary: m.label }))}
          onChange={(next) => setLabels(Object.fromEntries(others.map((l) => [l, menu.map((_, i) => translated(next, l, `link${i}`))])))} />
      )}
    </Section>
  );
}

function FormTab({ portal }: { portal: Portal }) {
  const save = useSave(portal);
  const forms = useQuery({ queryKey: ['forms'], queryFn: () => call(api.GET('/api/v1/forms')) });
  const [formId, setFormId] = useState(portal.formId === null ? '' : String(portal.formId));
  const [kb, setKb] = useState(portal.kbPortalLink);
  const [kbMenu, setKbMenu] = useState(portal.kbInMenu);
  return (
    <Section title="Support form and knowledge base" save={save} onSave={() => save.mutate({ formId: formId === '' ? null : Number(formId), kbPortalLink: kb, kbInMenu: kbMenu })}>
      <Select label="Support form" description="Its “Submit a support ticket” link appears in the portal’s navigation" data={[{ value: '', label: 'No form' }, ...(forms.data?.items ?? []).map((f) => ({ value: String(f.id), label: f.name }))]} value={formId} allowDeselect={false} onChange={(v) => setFormId(v ?? '')} />
      <Switch label="The knowledge base appears in the portal’s navigation, and its most read articles on the portal’s home page" checked={kbMenu} onChange={(e) => setKbMenu(e.currentTarget.checked)} />
      <Switch label="Knowledge base pages link to the customer’s tickets (or to signing in)" checked={kb} onChange={(e) => setKb(e.currentTarget.checked)} />
    </Section>
  );
}

/** Who has a sign-in on the portal: add one by contact email, invite, disable (P8, P10). */
function MembersTab({ portal }: { portal: Portal }) {
  const queryClient = useQueryClient();
  const key = ['members', portal.id];
  const members = useQuery({ queryKey: key, queryFn: () => call(api.GET('/api/v1/portals/{id}/members', { params: { path: { id: portal.id }, query: { limit: 100 } } })) });
  const contacts = useQuery({
    queryKey: ['contacts-by-id', (members.data?.items ?? []).map((m) => m.contactId)],
    queryFn: () => Promise.all((members.data?.items ?? []).map((m) => call(api.GET('/api/v1/contacts/{id}', { params: { path: { id: m.contactId } } })))),
    enabled: members.data !== undefined,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: key });
  const [email, setEmail] = useState('');
  const add = useMutation({
    mutationFn: async () => {
      const found = (await call(api.GET('/api/v1/contacts', { params: { query: { email: email.trim(), limit: 5 } } }))).items.find((c) => c.email.toLowerCase() === email.trim().toLowerCase());
      if (found === undefined) throw new Error(`No contact has the email ${email.trim()}: add the contact first.`);
      const member = await call(api.POST('/api/v1/portals/{id}/members', { params: { path: { id: portal.id } }, body: { contactId: found.id } }));
      // A new member has no password yet: the invitation lets them choose one.
      await call(api.POST('/api/v1/portals/{id}/members/{memberId}/invitation', { params: { path: { id: portal.id, memberId: member.id } } }));
      return member;
    },
    onSuccess: () => { setEmail(''); refresh(); },
  });
  const update = useMutation({
    mutationFn: (v: { memberId: number; disabled: boolean }) => call(api.PATCH('/api/v1/portals/{id}/members/{memberId}', { params: { path: { id: portal.id, memberId: v.memberId } }, body: { disabled: v.disabled } })),
    onSuccess: refresh,
  });
  const invite = useMutation({
    mutationFn: (memberId: number) => call(api.POST('/api/v1/portals/{id}/members/{memberId}/invitation', { params: { path: { id: portal.id, memberId } } })),
  });
  return (
    <Stack maw={900}>
      <Paper withBorder p="md">
        <form onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
          <Group align="flex-end">
            <TextInput label="Give a contact a sign-in (by email); they get an invitation" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} w={420} />
            <Button type="submit" loading={add.isPending}>Add and invite</Button>
          </Group>
          <ErrorNotice error={add.error} title="Not added" />
        </form>
      </Paper>
      <Loaded query={members}>
        {(page) => page.items.length === 0 ? <Text size="sm" c="dimmed">No members yet.</Text> : (
          <Table>
            <Table.Thead><Table.Tr><Table.Th>Contact</Table.Th><Table.Th>Password</Table.Th><Table.Th>Last sign-in</Table.Th><Table.Th>May sign in</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {page.items.map((m, i) => {
                const c = contacts.data?.[i];
                const who = c === undefined ? `Member #${m.id}` : `${contactName(c)} · ${c.email}`;
                return (
                  <Table.Tr key={m.id}>
                    <Table.Td>{who}</Table.Td>
                    <Table.Td>{m.hasPassword ? 'set' : <Group gap="xs"><Text size="sm">not yet</Text><Button size="compact-sm" variant="subtle" onClick={() => invite.mutate(m.id)}>Invite again</Button></Group>}</Table.Td>
                    <Table.Td>{m.lastSignInAt === null ? 'never' : when(m.lastSignInAt)}</Table.Td>
                    <Table.Td><Switch aria-label={`${who} may sign in`} checked={!m.disabled} onChange={(e) => update.mutate({ memberId: m.id, disabled: !e.currentTarget.checked })} /></Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
      <ErrorNotice error={update.error ?? invite.error} title="Not changed" />
      {invite.isSuccess && <Text size="sm" c="teal.9" role="status">Invitation sent.</Text>}
    </Stack>
  );
}

/** View the portal as one of its members would (P28, P30): a one-time link opened in a new tab. */
function PreviewTab({ portal }: { portal: Portal }) {
  const queryClient = useQueryClient();
  const members = useQuery({ queryKey: ['members', portal.id], queryFn: () => call(api.GET('/api/v1/portals/{id}/members', { params: { path: { id: portal.id }, query: { limit: 100 } } })) });
  const previews = useQuery({ queryKey: ['previews', portal.id], queryFn: () => call(api.GET('/api/v1/portals/{id}/previews', { params: { path: { id: portal.id } } })) });
  const [memberId, setMemberId] = useState<string | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const open = useMutation({
    mutationFn: () => call(api.POST('/api/v1/portals/{id}/previews', { params: { path: { id: portal.id } }, body: { memberId: Number(memberId) } })),
    onSuccess: (p) => {
      setLink(p.url);
      // A new tab on the portal's host: no opener, no referrer, no staff cookie goes there.
      window.open(p.url, '_blank', 'noopener,noreferrer');
      void queryClient.invalidateQueries({ queryKey: ['previews', portal.id] });
    },
  });
  return (
    <Stack maw={820}>
      <Paper withBorder p="md">
        <Stack gap="sm">
          <Title order={3} size="h4">View customer portal</Title>
          <Text size="sm">See the portal exactly as one of its members sees it: their tickets, read-only, under a banner saying it is a preview. The link works once, for two minutes; each preview is recorded below.</Text>
          {!portal.enabled && <Alert color="yellow" title="The portal is off">Enable it first: its pages answer on its domain only once it is on.</Alert>}
          <Loaded query={members}>
            {(page) => (
              <MemberPicker portalId={portal.id} memberIds={page.items.map((m) => ({ id: m.id, contactId: m.contactId }))} value={memberId} onChange={setMemberId} />
            )}
          </Loaded>
          <Group><Button onClick={() => open.mutate()} disabled={memberId === null || !portal.enabled} loading={open.isPending}>View customer portal</Button></Group>
          <ErrorNotice error={open.error} title="No preview" />
          {link !== null && <Text size="sm">If no tab opened, <Anchor href={link} target="_blank" rel="noopener noreferrer">open the preview</Anchor>.</Text>}
        </Stack>
      </Paper>
      <Paper withBorder p="md">
        <Title order={3} size="h4" mb="xs">Previews so far</Title>
        <Loaded query={previews}>
          {(page) => page.items.length === 0 ? <Text size="sm" c="dimmed">None yet.</Text> : (
            <Table>
              <Table.Thead><Table.Tr><Table.Th>When</Table.Th><Table.Th>Staff</Table.Th><Table.Th>As</Table.Th><Table.Th>Opened</Table.Th></Table.Tr></Table.Thead>
              <Table.Tbody>{page.items.map((v) => <Table.Tr key={v.id}><Table.Td>{when(v.createdAt)}</Table.Td><Table.Td>{v.staffName}</Table.Td><Table.Td>{v.contactEmail}</Table.Td><Table.Td>{v.openedAt === null ? 'not opened' : when(v.openedAt)}</Table.Td></Table.Tr>)}</Table.Tbody>
            </Table>
          )}
        </Loaded>
      </Paper>
    </Stack>
  );
}

function MemberPicker({ memberIds, value, onChange }: { portalId: number; memberIds: { id: number; contactId: number }[]; value: string | null; onChange: (v: string | null) => void }) {
  const contacts = useQuery({
    queryKey: ['contacts-by-id', memberIds.map((m) => m.contactId)],
    queryFn: () => Promise.all(memberIds.map((m) => call(api.GET('/api/v1/contacts/{id}', { params: { path: { id: m.contactId } } })))),
  });
  if (memberIds.length === 0) return <Text size="sm" c="dimmed">The portal has no members yet: nobody to view it as.</Text>;
  const data = memberIds.map((m, i) => { const c = contacts.data?.[i]; return { value: String(m.id), label: c === undefined ? `Member #${m.id}` : `${contactName(c)} · ${c.email}` }; });
  return <Select label="View as" placeholder="Choose a member" data={data} value={value} onChange={onChange} searchable />;
}

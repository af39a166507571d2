import { ActionIcon, Alert, Anchor, Badge, Button, Checkbox, Code, CopyButton, FileInput, Group, List, Modal, NumberInput, Paper, PasswordInput, Radio, SegmentedControl, Select, Stack, Switch, Text, TextInput, Textarea, Title, Tooltip } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { ApiError, api, call, type Ok, type Portal } from '../api/client';
import { when } from '../components/lookups';
import { ErrorNotice, Loaded } from '../components/notice';

type Provider = Ok<'/api/v1/portals/{id}/sso-providers/{providerId}'>;
type Kind = Provider['kind'];
type MetadataRead = Ok<'/api/v1/portals/{id}/sso-providers/saml-metadata', 'post'>;
type Discovery = Ok<'/api/v1/portals/{id}/sso-providers/oidc-discovery', 'post'>;
type TestSignIn = Ok<'/api/v1/portals/{id}/sso-providers/{providerId}/test-sign-ins/{testId}'>;

const KIND_NAMES: Record<Kind, string> = { saml: 'SAML 2.0', jwt: 'JWT', oidc: 'OpenID Connect' };

/**
 * What to tell the admin about a field the API refused, by the field it names: one sentence
 * each, in the admin's words (the API's own wording is for developers).
 */
const FIELD_WORDS: [RegExp, string][] = [
  [/^\/body\/name$/, 'Give the provider a name of at most 120 characters: customers see it on the sign-in button.'],
  [/^\/body\/settings\/idpEntityId$/, 'Give the identity provider’s entity id, as its metadata or settings page shows it.'],
  [/^\/body\/settings\/idpSsoUrl$/, 'Give the identity provider’s sign-in address: a public https address.'],
  [/^\/body\/settings\/idpCertificates/, 'This is not a certificate. Paste the whole text, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.'],
  [/^\/body\/settings\/loginUrl$/, 'Give the address of the company site’s sign-in page: a public https address.'],
  [/^\/body\/settings\/jwksUrl$/, 'Give the address where the company’s site publishes its keys: a public https address.'],
  [/^\/body\/settings\/publicKey$/, 'Paste the public key or the certificate as text (from -----BEGIN to -----END), never the private key, of the kind the algorithm needs: RSA for RS256, P-256 for ES256.'],
  [/^\/body\/settings\/algorithm$/, 'HS256 signs with the shared secret only: remove the public key and keys address, or choose RS256 or ES256.'],
  [/^\/body\/settings\/audience$/, 'Give the audience the company’s site writes in its tokens, such as portico.'],
  [/^\/body\/settings\/maxAgeSeconds$/, 'Give a number of seconds from 30 to 3,600.'],
  [/^\/body\/settings\/clientId$/, 'Give the client id the provider gave Portico when you registered it.'],
  [/^\/body\/settings\/scopes$/, 'Give the scopes separated by spaces, starting with openid, such as “openid email profile”.'],
  [/^\/body\/secrets\/sharedSecret$/, 'The shared secret needs at least 32 characters: generate one.'],
  [/^\/body\/secrets\/clientSecret$/, 'Give the client secret the provider gave Portico.'],
];

/** The admin's sentence for a refused field; the JWT and OpenID Connect issuers share a setting name, so the kind decides. */
function fieldWords(path: string, kind: Kind, message: string): string {
  if (path === '/body/settings/issuer') {
    return kind === 'oidc' ? 'Give the provider’s public https address, exactly as it names itself.' : 'Give the issuer exactly as the company’s site writes it in its tokens.';
  }
  if (path === '/body/metadataXml' || path === '/body/issuer') return message;
  return FIELD_WORDS.find(([pattern]) => pattern.test(path))?.[1] ?? (/^[a-z]/.test(message) ? `This setting ${message.replace(/\.?$/, '.')}` : message);
}

/** The refused fields of a request, by the setting they name (the last part of their path). */
function fieldErrors(error: unknown, kind: Kind): Map<string, string> {
  const out = new Map<string, string>();
  if (!(error instanceof ApiError)) return out;
  for (const e of error.problem.errors ?? []) {
    const name = e.path.replace(/^\/body\/(settings\/|secrets\/)?/, '').replace(/\/.*$/, '');
    if (!out.has(name)) out.set(name, fieldWords(e.path, kind, e.message));
  }
  return out;
}

/** What went wrong, without the fields already shown at their field. */
function FormProblem({ error, shown, title = 'Not saved' }: { error: unknown; shown: Map<string, string>; title?: string }) {
  if (error === null || error === undefined) return null;
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  return (
    <Alert color="red" title={title} role="alert">
      <Text size="sm">{shown.size > 0 ? 'Correct the fields marked in red.' : message}</Text>
    </Alert>
  );
}

/** A value to give the identity provider, with a button that copies it. */
function CopyField({ label, value }: { label: string; value: string }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-end">
      <TextInput label={label} value={value} readOnly style={{ flex: 1, minWidth: 0 }} onFocus={(e) => e.currentTarget.select()} />
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : 'Copy'} withArrow>
            <Button variant="default" onClick={copy} aria-label={`Copy the ${label.toLowerCase()}`} w={88}>{copied ? 'Copied' : 'Copy'}</Button>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

/** Identity providers of a portal (P12, X2): each with what to give it, a test sign-in, on/off and removal; and a form per kind to add one. */
export function SsoProviders({ portal }: { portal: Portal }) {
  const queryClient = useQueryClient();
  const key = ['sso-providers', portal.id];
  const providers = useQuery({ queryKey: key, queryFn: () => call(api.GET('/api/v1/portals/{id}/sso-providers', { params: { path: { id: portal.id } } })) });
  const refresh = () => { void queryClient.invalidateQueries({ queryKey: key }); void queryClient.invalidateQueries({ queryKey: ['portal', portal.id] }); };
  return (
    <Stack maw={820}>
      <Paper withBorder p="md">
        <Stack gap="sm">
          <Title order={3} size="h4">Single sign-on providers</Title>
          <Loaded query={providers}>
            {(page) => page.items.length === 0
              ? <Text size="sm" c="dimmed">None yet. Add one below: customers then see a “Sign in with …” button for it.</Text>
              : <Stack gap="md">{page.items.map((p) => <ProviderCard key={p.id} portal={portal} provider={p} onChanged={refresh} />)}</Stack>}
          </Loaded>
        </Stack>
      </Paper>
      <AddProvider portal={portal} onAdded={refresh} />
    </Stack>
  );
}

function ProviderCard({ portal, provider, onChanged }: { portal: Portal; provider: Provider; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => call(api.PATCH('/api/v1/portals/{id}/sso-providers/{providerId}', { params: { path: { id: portal.id, providerId: provider.id } }, body: { enabled } })),
    onSuccess: onChanged,
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/portals/{id}/sso-providers/{providerId}', { params: { path: { id: portal.id, providerId: provider.id } } })),
    onSuccess: () => { setConfirming(false); onChanged(); },
  });
  const urls = provider.urls;
  const members = provider.linkedMembers === 1 ? '1 member signs in' : `${provider.linkedMembers} members sign in`;
  const through = provider.linkedMembers === 0 ? 'Nobody signs in through it yet' : `${members} through it`;
  return (
    <Paper withBorder p="sm" component="section" aria-label={`Provider ${provider.name}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Group gap="xs">
            <Title order={4} size="h5">{provider.name}</Title>
            <Badge variant="light">{KIND_NAMES[provider.kind]}</Badge>
            <Text size="sm" c="dimmed">{through}</Text>
          </Group>
          <Group gap="xs">
            <Switch label="On" aria-label={`${provider.name} is on`} checked={provider.enabled} onChange={(e) => toggle.mutate(e.currentTarget.checked)} />
            <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(true)}>Remove</Button>
          </Group>
        </Group>
        <Text size="sm" fw={500}>Give the identity provider</Text>
        {provider.kind === 'saml' && (
          <>
            <CopyField label="Entity id" value={urls.entityId ?? ''} />
            <CopyField label="Assertion consumer service address" value={urls.acs ?? ''} />
            <CopyField label="Metadata address" value={urls.metadata ?? ''} />
            <Group><Anchor size="sm" href={`/api/v1/portals/${portal.id}/sso-providers/${provider.id}/saml-metadata`} download={`portico-sp-metadata-${provider.id}.xml`}>Download our metadata</Anchor></Group>
          </>
        )}
        {provider.kind === 'jwt' && <CopyField label="Where the company’s site sends the token" value={urls.callback ?? ''} />}
        {provider.kind === 'oidc' && <CopyField label="Redirect address" value={urls.redirectUri ?? ''} />}
        <TestSignInPanel portal={portal} provider={provider} />
        <ErrorNotice error={toggle.error} title="Not changed" />
      </Stack>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={`Remove ${provider.name}?`} centered>
        <Stack>
          <Text size="sm">
            {provider.linkedMembers === 0
              ? `Nobody signs in through ${provider.name} yet. Its “Sign in with” button leaves the portal’s sign-in page.`
              : `${members} through ${provider.name}. Their links to it are removed: they can no longer sign in this way, and a provider added again links them anew at their next sign-in.`}
          </Text>
          <ErrorNotice error={remove.error} title="Not removed" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>Keep it</Button>
            <Button color="red" onClick={() => remove.mutate()} loading={remove.isPending}>Remove {provider.name}</Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}

const OUTCOME_WORDS: Record<NonNullable<TestSignIn['result']>['outcome'], { title: string; color: string }> = {
  would_sign_in: { title: 'The sign-in works', color: 'teal' },
  denied: { title: 'The provider proved who it was, but the portal would not let them in', color: 'yellow' },
  refused: { title: 'The sign-in did not work', color: 'red' },
};

/**
 * A test sign-in: the provider's sign-in opens in a new tab on the portal's address, and its
 * outcome appears here. It never signs anyone in, the admin included.
 */
function TestSignInPanel({ portal, provider }: { portal: Portal; provider: Provider }) {
  const [test, setTest] = useState<{ id: string; url: string; startedAt: string } | null>(null);
  const start = useMutation({
    mutationFn: () => call(api.POST('/api/v1/portals/{id}/sso-providers/{providerId}/test-sign-ins', { params: { path: { id: portal.id, providerId: provider.id } } })),
    onSuccess: (t) => {
      setTest({ id: t.id, url: t.url ?? '', startedAt: t.startedAt });
      // A new tab on the portal's host: no opener, no referrer, no staff cookie goes there.
      window.open(t.url ?? '', '_blank', 'noopener,noreferrer');
    },
  });
  const outcome = useQuery({
    queryKey: ['sso-test', provider.id, test?.id],
    queryFn: () => call(api.GET('/api/v1/portals/{id}/sso-providers/{providerId}/test-sign-ins/{testId}', { params: { path: { id: portal.id, providerId: provider.id, testId: test?.id ?? '' } } })),
    enabled: test !== null,
    refetchInterval: (q) => (q.state.data?.result == null && q.state.error === null ? 2000 : false),
  });
  // A proof refused before its sign-in is known (a bad signature) is only in the sign-in log.
  const log = useQuery({
    queryKey: ['sso-test-log', provider.id, test?.id],
    queryFn: () => call(api.GET('/api/v1/portals/{id}/sign-in-log', { params: { path: { id: portal.id }, query: { method: 'sso', limit: 10 } } })),
    enabled: test !== null && outcome.data?.result == null,
    refetchInterval: 2000,
  });
  const since = test === null ? '' : test.startedAt;
  const logged = (log.data?.items ?? []).filter((e) => e.provider?.id === provider.id && e.occurredAt >= since && e.outcome !== 'signed_in');
  const result = outcome.data?.result ?? null;
  return (
    <Stack gap={6}>
      <Group gap="xs">
        <Button size="xs" variant="light" onClick={() => start.mutate()} loading={start.isPending}>Test sign-in</Button>
        <Text size="xs" c="dimmed">Opens the provider’s sign-in in a new tab. Nobody is signed in: you see here what would happen.</Text>
      </Group>
      {start.error !== null && <Alert color="yellow" role="alert" title="No test sign-in">{start.error.message}</Alert>}
      {test !== null && result === null && outcome.error === null && (
        <Alert color="blue" role="status" title="Test sign-in under way">
          <Text size="sm">Sign in at the provider in the new tab. If no tab opened, <Anchor href={test.url} target="_blank" rel="noopener noreferrer">open the test sign-in</Anchor>.</Text>
          {logged.length > 0 && (
            <Text size="sm" mt={4}>The sign-in log has meanwhile: {logged[0]?.reasonText}{logged[0]?.detail === null ? '' : ` (${logged[0]?.detail})`}</Text>
          )}
        </Alert>
      )}
      {outcome.error !== null && <ErrorNotice error={outcome.error} title="The test ended" />}
      {result !== null && (
        <Alert color={OUTCOME_WORDS[result.outcome].color} role="status" title={OUTCOME_WORDS[result.outcome].title}>
          <Stack gap={4}>
            <Text size="sm">{result.message}</Text>
            {result.detail !== null && <Text size="sm" c="dimmed">What failed: {result.detail}</Text>}
            {result.identity !== null && (
              <List size="sm">
                <List.Item>The provider’s id for the person: <Code>{result.identity.subject}</Code></List.Item>
                <List.Item>Email address: {result.identity.email ?? 'none given'}{result.identity.emailVerified === true ? ' (verified by the provider)' : result.identity.emailVerified === false ? ' (not verified by the provider)' : ''}</List.Item>
                {(result.identity.firstName !== null || result.identity.lastName !== null) && <List.Item>Name: {[result.identity.firstName, result.identity.lastName].filter((n) => n !== null).join(' ')}</List.Item>}
              </List>
            )}
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

/** The common part of every kind's form, and its Save button. */
function AddProvider({ portal, onAdded }: { portal: Portal; onAdded: () => void }) {
  const [kind, setKind] = useState<Kind>('saml');
  // A new, empty form after each provider added; the message says where it went.
  const [round, setRound] = useState(0);
  const [added, setAdded] = useState<string | null>(null);
  const done = (name: string) => { setAdded(name); setRound(round + 1); onAdded(); };
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Title order={3} size="h4">Add a provider</Title>
        {added !== null && <Text size="sm" c="teal.9" role="status">{added} was added: give the identity provider the addresses shown with it above.</Text>}
        <SegmentedControl aria-label="Kind of provider" value={kind} onChange={(v) => { setKind(v); setAdded(null); }} data={[{ value: 'saml', label: 'SAML 2.0' }, { value: 'jwt', label: 'JWT' }, { value: 'oidc', label: 'OpenID Connect' }]} />
        {kind === 'saml' && <SamlForm key={round} portal={portal} onAdded={done} />}
        {kind === 'jwt' && <JwtForm key={round} portal={portal} onAdded={done} />}
        {kind === 'oidc' && <OidcForm key={round} portal={portal} onAdded={done} />}
      </Stack>
    </Paper>
  );
}

interface Common { name: string; enabled: boolean; createContacts: boolean }

function useCreate(portal: Portal, kind: Kind, onAdded: (name: string) => void) {
  return useMutation({
    mutationFn: (body: { common: Common; settings: Record<string, unknown>; secrets?: Record<string, string> }) => call(api.POST('/api/v1/portals/{id}/sso-providers', {
      params: { path: { id: portal.id } },
      body: { kind, ...body.common, settings: body.settings, ...(body.secrets === undefined ? {} : { secrets: body.secrets }) },
    })),
    onSuccess: (p) => onAdded(p.name),
  });
}

function CommonFields({ value, onChange, errors }: { value: Common; onChange: (c: Common) => void; errors: Map<string, string> }) {
  return (
    <>
      <TextInput label="Name on the sign-in button" description="Customers see “Sign in with” and this name" required value={value.name} onChange={(e) => onChange({ ...value, name: e.currentTarget.value })} error={errors.get('name')} />
      <Checkbox label="A person the provider vouches for, with an address no contact has yet, becomes a new contact" checked={value.createContacts} onChange={(e) => onChange({ ...value, createContacts: e.currentTarget.checked })} />
      <Checkbox label="Turn it on now (customers see its button)" checked={value.enabled} onChange={(e) => onChange({ ...value, enabled: e.currentTarget.checked })} />
    </>
  );
}

function SaveRow({ pending }: { pending: boolean }) {
  return <Group><Button type="submit" loading={pending}>Add provider</Button></Group>;
}

const blankCommon: Common = { name: '', enabled: true, createContacts: false };

function SamlForm({ portal, onAdded }: { portal: Portal; onAdded: (name: string) => void }) {
  const [common, setCommon] = useState(blankCommon);
  const [mode, setMode] = useState<'metadata' | 'fields'>('metadata');
  const [xml, setXml] = useState('');
  const [read, setRead] = useState<MetadataRead | null>(null);
  const [fields, setFields] = useState({ idpEntityId: '', idpSsoUrl: '', certificate: '' });
  const [options, setOptions] = useState({ emailsVerified: false, allowIdpInitiated: false });
  const readMetadata = useMutation({
    mutationFn: (metadataXml: string) => call(api.POST('/api/v1/portals/{id}/sso-providers/saml-metadata', { params: { path: { id: portal.id } }, body: { metadataXml } })),
    onSuccess: setRead,
    onError: () => setRead(null),
  });
  const create = useCreate(portal, 'saml', onAdded);
  const errors = fieldErrors(create.error, 'saml');
  const readErrors = fieldErrors(readMetadata.error, 'saml');
  const upload = async (file: File | null) => {
    if (file === null) return;
    const text = await file.text();
    setXml(text);
    readMetadata.mutate(text);
  };
  const submit = () => {
    if (mode === 'metadata' && read === null) { readMetadata.mutate(xml); return; }
    const idp = mode === 'metadata' && read !== null
      ? { idpEntityId: read.entityId, idpSsoUrl: read.ssoUrl, idpCertificates: read.certificates.map((c) => c.pem) }
      : { idpEntityId: fields.idpEntityId.trim(), idpSsoUrl: fields.idpSsoUrl.trim(), idpCertificates: [fields.certificate.trim()] };
    create.mutate({ common, settings: { ...idp, ...options } });
  };
  return (
    <form onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <Stack gap="sm">
        <CommonFields value={common} onChange={setCommon} errors={errors} />
        <Radio.Group label="The identity provider’s details" value={mode} onChange={(v) => setMode(v)}>
          <Group mt={6}><Radio value="metadata" label="From its metadata" /><Radio value="fields" label="Typed in" /></Group>
        </Radio.Group>
        {mode === 'metadata' ? (
          <>
            <Textarea label="Identity provider metadata (XML)" description="Paste the metadata file your identity provider gives you, or choose the file below" autosize minRows={4} maxRows={10} className="code-editor"
              value={xml} onChange={(e) => { setXml(e.currentTarget.value); setRead(null); }} error={readErrors.get('metadataXml')} />
            <Group align="flex-end">
              <FileInput label="Or upload the metadata file" accept=".xml,application/xml,text/xml,application/samlmetadata+xml" onChange={(f) => void upload(f)} clearable w={260} />
              <Button variant="default" onClick={() => readMetadata.mutate(xml)} loading={readMetadata.isPending} disabled={xml.trim() === ''}>Read the metadata</Button>
            </Group>
            {read !== null && <MetadataSummary read={read} />}
          </>
        ) : (
          <>
            <TextInput label="Identity provider’s entity id" required value={fields.idpEntityId} onChange={(e) => setFields({ ...fields, idpEntityId: e.currentTarget.value })} error={errors.get('idpEntityId')} />
            <TextInput label="Identity provider’s sign-in address (SSO URL)" placeholder="https://…" required value={fields.idpSsoUrl} onChange={(e) => setFields({ ...fields, idpSsoUrl: e.currentTarget.value })} error={errors.get('idpSsoUrl')} />
            <Textarea label="Signing certificate" description="The whole text, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----" autosize minRows={4} maxRows={10} className="code-editor" required
              value={fields.certificate} onChange={(e) => setFields({ ...fields, certificate: e.currentTarget.value })} error={errors.get('idpCertificates')} />
          </>
        )}
        <Checkbox label="The identity provider verifies every email address it sends (so an address may link an existing contact)" checked={options.emailsVerified} onChange={(e) => setOptions({ ...options, emailsVerified: e.currentTarget.checked })} />
        <Checkbox label="Accept sign-ins started at the identity provider" description="Risky: such a sign-in is not tied to a browser, so someone can sign a visitor in to their own account without the visitor noticing" checked={options.allowIdpInitiated} onChange={(e) => setOptions({ ...options, allowIdpInitiated: e.currentTarget.checked })} />
        {readMetadata.error !== null && readErrors.size === 0 && <ErrorNotice error={readMetadata.error} title="Not read" />}
        <FormProblem error={create.error} shown={errors} />
        <SaveRow pending={create.isPending || readMetadata.isPending} />
      </Stack>
    </form>
  );
}

function MetadataSummary({ read }: { read: MetadataRead }) {
  return (
    <Alert color="teal" title="Read from the metadata" role="status">
      <Stack gap={4}>
        <Text size="sm">Entity id: <Code>{read.entityId}</Code></Text>
        <Text size="sm">Sign-in address: <Code>{read.ssoUrl}</Code></Text>
        {read.certificates.map((c) => (
          <div key={c.fingerprint}>
            <Text size="sm">Signing certificate for {c.subject}, issued by {c.issuer}, valid until {when(c.validTo)}{c.expired ? ' (expired: ask the provider for its new certificate)' : ''}.</Text>
            <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>SHA-256 fingerprint: {c.fingerprint}</Text>
          </div>
        ))}
      </Stack>
    </Alert>
  );
}

/** 48 random bytes, base64url: a shared secret no one chose. */
function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(48));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function JwtForm({ portal, onAdded }: { portal: Portal; onAdded: (name: string) => void }) {
  const [common, setCommon] = useState(blankCommon);
  const [s, setS] = useState({ algorithm: 'HS256' as 'HS256' | 'RS256' | 'ES256', issuer: '', audience: 'portico', loginUrl: '', maxAgeSeconds: 300, emailsVerified: false, allowUnsolicited: false });
  const [keyBy, setKeyBy] = useState<'publicKey' | 'jwksUrl'>('publicKey');
  const [publicKey, setPublicKey] = useState('');
  const [jwksUrl, setJwksUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [generated, setGenerated] = useState(false);
  const create = useCreate(portal, 'jwt', onAdded);
  const errors = fieldErrors(create.error, 'jwt');
  const hs = s.algorithm === 'HS256';
  const submit = () => {
    const key = hs ? { publicKey: null, jwksUrl: null } : keyBy === 'publicKey' ? { publicKey: publicKey.trim(), jwksUrl: null } : { publicKey: null, jwksUrl: jwksUrl.trim() };
    create.mutate({ common, settings: { ...s, issuer: s.issuer.trim(), audience: s.audience.trim(), loginUrl: s.loginUrl.trim(), ...key }, ...(hs && secret !== '' ? { secrets: { sharedSecret: secret } } : {}) });
  };
  return (
    <form onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <Stack gap="sm">
        <CommonFields value={common} onChange={setCommon} errors={errors} />
        <TextInput label="Sign-in page on the company’s site" description="Customers are sent there; it sends them back with a signed token" placeholder="https://…" required value={s.loginUrl} onChange={(e) => setS({ ...s, loginUrl: e.currentTarget.value })} error={errors.get('loginUrl')} />
        <Group grow align="flex-start">
          <TextInput label="Issuer" description="As the company’s site writes it in its tokens" required value={s.issuer} onChange={(e) => setS({ ...s, issuer: e.currentTarget.value })} error={errors.get('issuer')} />
          <TextInput label="Audience" description="As the tokens name Portico" required value={s.audience} onChange={(e) => setS({ ...s, audience: e.currentTarget.value })} error={errors.get('audience')} />
        </Group>
        <Select label="Signing algorithm" allowDeselect={false} value={s.algorithm} onChange={(v) => v !== null && setS({ ...s, algorithm: v })} error={errors.get('algorithm')}
          data={[{ value: 'HS256', label: 'HS256: a secret shared with the company’s site' }, { value: 'RS256', label: 'RS256: the site’s RSA key' }, { value: 'ES256', label: 'ES256: the site’s P-256 key' }]} />
        {hs ? (
          <Stack gap={6}>
            <PasswordInput label="Shared secret" description="At least 32 characters; stored sealed and never shown again once saved" value={secret} onChange={(e) => { setSecret(e.currentTarget.value); setGenerated(false); }} error={errors.get('sharedSecret')} required />
            <Group><Button variant="default" size="xs" onClick={() => { setSecret(randomSecret()); setGenerated(true); }}>Generate a shared secret</Button></Group>
            {generated && (
              <Alert color="blue" title="Copy this secret now" role="status">
                <Text size="sm" mb={6}>Give it to the company’s site. After you add the provider, Portico never shows it again.</Text>
                <Group gap="xs" wrap="nowrap">
                  <Code style={{ wordBreak: 'break-all', flex: 1 }} aria-label="Generated shared secret">{secret}</Code>
                  <CopyButton value={secret}>{({ copied, copy }) => <ActionIcon variant="default" size="lg" onClick={copy} aria-label="Copy the shared secret" w={64}><Text size="xs">{copied ? 'Copied' : 'Copy'}</Text></ActionIcon>}</CopyButton>
                </Group>
              </Alert>
            )}
          </Stack>
        ) : (
          <>
            <Radio.Group label="Where Portico finds the site’s public key" value={keyBy} onChange={(v) => setKeyBy(v)}>
              <Group mt={6}><Radio value="publicKey" label="Pasted here" /><Radio value="jwksUrl" label="At an address (JWKS)" /></Group>
            </Radio.Group>
            {keyBy === 'publicKey'
              ? <Textarea label="Public key or certificate" description="The text from -----BEGIN PUBLIC KEY----- (or CERTIFICATE) to its END line; never the private key" autosize minRows={4} maxRows={10} className="code-editor" required value={publicKey} onChange={(e) => setPublicKey(e.currentTarget.value)} error={errors.get('publicKey')} />
              : <TextInput label="Keys address (JWKS URL)" placeholder="https://…/.well-known/jwks.json" required value={jwksUrl} onChange={(e) => setJwksUrl(e.currentTarget.value)} error={errors.get('jwksUrl')} />}
          </>
        )}
        <NumberInput label="Oldest token accepted (seconds)" min={30} max={3600} value={s.maxAgeSeconds} onChange={(v) => setS({ ...s, maxAgeSeconds: typeof v === 'number' ? v : Number(v) })} error={errors.get('maxAgeSeconds')} w={260} />
        <Checkbox label="The company’s site verifies every email address it sends (so an address may link an existing contact)" checked={s.emailsVerified} onChange={(e) => setS({ ...s, emailsVerified: e.currentTarget.checked })} />
        <Checkbox label="Accept tokens the site sends unasked" description="Risky: such a token is not tied to a browser, so someone can sign a visitor in to their own account without the visitor noticing" checked={s.allowUnsolicited} onChange={(e) => setS({ ...s, allowUnsolicited: e.currentTarget.checked })} />
        <FormProblem error={create.error} shown={errors} />
        <SaveRow pending={create.isPending} />
      </Stack>
    </form>
  );
}

function OidcForm({ portal, onAdded }: { portal: Portal; onAdded: (name: string) => void }) {
  const [common, setCommon] = useState(blankCommon);
  const [s, setS] = useState({ issuer: '', clientId: '', scopes: 'openid email profile' });
  const [secret, setSecret] = useState('');
  const [found, setFound] = useState<Discovery | null>(null);
  const discover = useMutation({
    mutationFn: () => call(api.POST('/api/v1/portals/{id}/sso-providers/oidc-discovery', { params: { path: { id: portal.id } }, body: { issuer: s.issuer.trim(), scopes: s.scopes.trim() } })),
    onSuccess: setFound,
    onError: () => setFound(null),
  });
  const create = useCreate(portal, 'oidc', onAdded);
  const errors = fieldErrors(create.error, 'oidc');
  const discoveryErrors = fieldErrors(discover.error, 'oidc');
  return (
    <form onSubmit={(e) => { e.preventDefault(); create.mutate({ common, settings: { issuer: s.issuer.trim(), clientId: s.clientId.trim(), scopes: s.scopes.trim() }, ...(secret === '' ? {} : { secrets: { clientSecret: secret } }) }); }}>
      <Stack gap="sm">
        <CommonFields value={common} onChange={setCommon} errors={errors} />
        <Group align="flex-start" wrap="nowrap">
          <TextInput label="Issuer" description="The provider’s address, exactly as it names itself" placeholder="https://login.example.com" required style={{ flex: 1 }}
            value={s.issuer} onChange={(e) => { setS({ ...s, issuer: e.currentTarget.value }); setFound(null); }} error={discoveryErrors.get('issuer') ?? errors.get('issuer')} />
          <Button variant="default" mt={46} onClick={() => discover.mutate()} loading={discover.isPending} disabled={s.issuer.trim() === ''}>Test connection</Button>
        </Group>
        {found !== null && <DiscoverySummary found={found} />}
        {discover.error !== null && discoveryErrors.size === 0 && <ErrorNotice error={discover.error} title="Not tried" />}
        <Group grow align="flex-start">
          <TextInput label="Client id" required value={s.clientId} onChange={(e) => setS({ ...s, clientId: e.currentTarget.value })} error={errors.get('clientId')} />
          <PasswordInput label="Client secret" description="Stored sealed, never shown again" value={secret} onChange={(e) => setSecret(e.currentTarget.value)} error={errors.get('clientSecret')} />
        </Group>
        <TextInput label="Scopes" description="Separated by spaces, starting with openid" value={s.scopes} onChange={(e) => setS({ ...s, scopes: e.currentTarget.value })} error={errors.get('scopes')} />
        <FormProblem error={create.error} shown={errors} />
        <SaveRow pending={create.isPending} />
      </Stack>
    </form>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return <Text size="sm"><Text span fw={500}>{label}:</Text> {children}</Text>;
}

function DiscoverySummary({ found }: { found: Discovery }) {
  return (
    <Alert color={found.warnings.length === 0 ? 'teal' : 'yellow'} title="The provider answered" role="status">
      <Stack gap={4}>
        <Row label="Issuer"><Code>{found.issuer}</Code></Row>
        <Row label="Sign-in page"><Code style={{ wordBreak: 'break-all' }}>{found.authorizationEndpoint}</Code></Row>
        <Row label="Token address"><Code style={{ wordBreak: 'break-all' }}>{found.tokenEndpoint}</Code></Row>
        <Row label="User information address">{found.userinfoEndpoint === null ? 'none' : <Code style={{ wordBreak: 'break-all' }}>{found.userinfoEndpoint}</Code>}</Row>
        <Row label="Signing keys">{found.signingKeys}</Row>
        <Row label="Scopes it offers">{found.scopesSupported.length === 0 ? 'not listed' : found.scopesSupported.join(', ')}</Row>
        {found.warnings.map((w) => <Text size="sm" key={w} c="yellow.9">{w}</Text>)}
      </Stack>
    </Alert>
  );
}

import { Badge, Button, Group, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Ok, type Portal } from '../api/client';
import { when } from '../components/lookups';
import { Loaded } from '../components/notice';

type Entry = Ok<'/api/v1/portals/{id}/sign-in-log'>['items'][number];
type Method = Entry['method'];
type Outcome = Entry['outcome'];

/** How each entry signed in (or tried to), in words. */
export const METHOD_WORDS: Record<Method, string> = {
  password: 'Password',
  magic_link: 'Emailed sign-in link',
  invitation: 'Invitation link',
  reset: 'Password reset link',
  verify: 'Address confirmation link',
  sso: 'Single sign-on',
};

const OUTCOME_WORDS: Record<Outcome, { label: string; color: string }> = {
  signed_in: { label: 'Signed in', color: 'teal' },
  refused: { label: 'Refused', color: 'red' },
  denied: { label: 'Denied', color: 'orange' },
};

const PAGE = 25;

/**
 * The portal's sign-in log (C11): who, when, how, the outcome and why, newest first; filtered by
 * outcome, method and the start of an email address, a page at a time.
 */
export function SignInLogTab({ portal }: { portal: Portal }) {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [method, setMethod] = useState<Method | null>(null);
  const [email, setEmail] = useState('');
  const [debouncedEmail] = useDebouncedValue(email.trim(), 300);
  // The cursors of the pages before this one, to go back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const filters = { outcome, method, email: debouncedEmail };
  const log = useQuery({
    queryKey: ['sign-in-log', portal.id, filters, cursor],
    queryFn: () => call(api.GET('/api/v1/portals/{id}/sign-in-log', {
      params: { path: { id: portal.id }, query: { limit: PAGE, ...(outcome === null ? {} : { outcome }), ...(method === null ? {} : { method }), ...(debouncedEmail === '' ? {} : { email: debouncedEmail }), ...(cursor === undefined ? {} : { cursor }) } },
    })),
    placeholderData: keepPreviousData,
  });
  const refilter = <T,>(set: (v: T) => void) => (v: T) => { set(v); setCursors([undefined]); };
  return (
    <Stack maw={1100}>
      <Text size="sm" c="dimmed">Every sign-in to this portal and every attempt that did not work, with the reason customers were not told. Entries are kept for 90 days unless the server is set otherwise.</Text>
      <Group align="flex-end" wrap="wrap">
        <Select label="Outcome" placeholder="Any outcome" clearable w={180} value={outcome} onChange={refilter((v: string | null) => setOutcome(v as Outcome | null))}
          data={Object.entries(OUTCOME_WORDS).map(([value, o]) => ({ value, label: o.label }))} />
        <Select label="How" placeholder="Any way" clearable w={230} value={method} onChange={refilter((v: string | null) => setMethod(v as Method | null))}
          data={Object.entries(METHOD_WORDS).map(([value, label]) => ({ value, label }))} />
        <TextInput label="Email address starts with" type="search" w={260} value={email} onChange={(e) => { setEmail(e.currentTarget.value); setCursors([undefined]); }} />
      </Group>
      <Loaded query={log}>
        {(page) => page.items.length === 0 ? <Text size="sm" c="dimmed">{cursors.length > 1 ? 'No more entries.' : 'No sign-ins match.'}</Text> : (
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="xs" aria-label="Sign-in log">
              <Table.Thead>
                <Table.Tr><Table.Th w={150}>When</Table.Th><Table.Th>Who</Table.Th><Table.Th>How</Table.Th><Table.Th w={120}>Outcome</Table.Th><Table.Th>Why</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td><Text size="sm">{when(e.occurredAt)}</Text></Table.Td>
                    <Table.Td>
                      <Text size="sm" style={{ wordBreak: 'break-all' }}>{e.email ?? (e.subject === null ? 'unknown' : `provider’s id ${e.subject}`)}</Text>
                      {e.ip !== null && <Text size="xs" c="dimmed">from {e.ip}</Text>}
                    </Table.Td>
                    <Table.Td><Text size="sm">{METHOD_WORDS[e.method]}{e.provider === null ? '' : `: ${e.provider.name}${e.provider.id === null ? ' (removed)' : ''}`}</Text></Table.Td>
                    <Table.Td><Badge color={OUTCOME_WORDS[e.outcome].color} variant="light" styles={{ root: { overflow: 'visible' }, label: { overflow: 'visible' } }}>{OUTCOME_WORDS[e.outcome].label}</Badge></Table.Td>
                    <Table.Td>
                      <Text size="sm">{e.reasonText}</Text>
                      {e.detail !== null && <Text size="xs" c="dimmed">{e.detail}</Text>}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Loaded>
      <Group>
        <Button variant="default" size="xs" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>Newer</Button>
        <Button variant="default" size="xs" disabled={log.data?.nextCursor == null} onClick={() => { const next = log.data?.nextCursor; if (next != null) setCursors([...cursors, next]); }}>Older</Button>
        <Text size="xs" c="dimmed">Page {cursors.length}</Text>
      </Group>
    </Stack>
  );
}

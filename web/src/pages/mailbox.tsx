import { Alert, Badge, Grid, Paper, ScrollArea, Stack, Table, Text, TextInput, Title, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { guarded } from '../components/guarded';
import { api, call } from '../api/client';
import { when } from '../components/lookups';
import { Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { word, OUTBOX_WORDS } from '../components/words';

const route = getRouteApi('/mailbox');

/** Every email Portico wrote, from the outbox: with no SMTP server configured, this is where it goes. */
export const MailboxPage = guarded('manage_settings', 'The development mailbox', MailboxPageScreen);

function MailboxPageScreen() {
  usePageTitle('Development mailbox');
  const { mail } = route.useSearch();
  const navigate = useNavigate({ from: '/mailbox' });
  const [typed, setTyped] = useState('');
  const [to] = useDebouncedValue(typed.trim(), 250);
  const list = useQuery({
    queryKey: ['outbox', to],
    queryFn: () => call(api.GET('/api/v1/outbox', { params: { query: { limit: 50, ...(to.length >= 3 ? { to } : {}) } } })),
    refetchInterval: 5000,
  });
  return (
    <Stack>
      <Title order={2}>Development mailbox</Title>
      <Alert color="blue">Outgoing mail waits in the outbox until an SMTP server (SMTP_URL) accepts it. Without one, read it here: invitations, sign-in links and replies to customers.</Alert>
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="xs">
            <TextInput label="To" type="search" placeholder="recipient address" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} />
            <Loaded query={list}>
              {(page) => (
                <Paper withBorder>
                  <ScrollArea.Autosize mah="65vh">
                    {page.items.length === 0 && <Text p="md" c="dimmed">No mail.</Text>}
                    {page.items.map((m) => (
                      <UnstyledButton key={m.id} className="thread-row" data-active={mail === m.id} w="100%" p="sm" style={{ borderBottom: '1px solid var(--mantine-color-gray-2)' }}
                        onClick={() => void navigate({ search: { mail: m.id } })}>
                        <Text size="sm" fw={600} lineClamp={1}>{m.subject}</Text>
                        <Text size="xs" c="dimmed">{m.to} · {when(m.createdAt)} · <Badge size="xs" variant="light">{word(OUTBOX_WORDS, m.status)}</Badge></Text>
                      </UnstyledButton>
                    ))}
                  </ScrollArea.Autosize>
                </Paper>
              )}
            </Loaded>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>{mail === undefined ? <Text c="dimmed">Choose a message.</Text> : <MailView id={mail} />}</Grid.Col>
      </Grid>
    </Stack>
  );
}

function MailView({ id }: { id: number }) {
  const mail = useQuery({ queryKey: ['outbox', 'one', id], queryFn: () => call(api.GET('/api/v1/outbox/{id}', { params: { path: { id } } })) });
  return (
    <Loaded query={mail}>
      {(m) => (
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Title order={3} size="h4">{m.subject}</Title>
            <Table variant="vertical" withTableBorder={false}>
              <Table.Tbody>
                <Table.Tr><Table.Th w={90}>From</Table.Th><Table.Td>{m.fromName === null ? m.from : `${m.fromName} <${m.from}>`}</Table.Td></Table.Tr>
                <Table.Tr><Table.Th>To</Table.Th><Table.Td>{m.toName === null ? m.to : `${m.toName} <${m.to}>`}</Table.Td></Table.Tr>
                <Table.Tr><Table.Th>Status</Table.Th><Table.Td>{m.status}{m.lastError !== null ? ` (${m.lastError})` : ''}</Table.Td></Table.Tr>
              </Table.Tbody>
            </Table>
            {/* The mail's HTML in a sandbox without scripts; links inside open nothing here. */}
            {m.html !== null
              ? <iframe title="Message" sandbox="" srcDoc={m.html} className="template-preview" />
              : <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid="mail-text">{m.text}</Text>}
            {m.html !== null && <details><summary>Plain text</summary><Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid="mail-text">{m.text}</Text></details>}
          </Stack>
        </Paper>
      )}
    </Loaded>
  );
}

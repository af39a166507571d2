import { Badge, Button, Group, NumberInput, Paper, PasswordInput, Select, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { guarded } from '../components/guarded';
import { api, call, type Ok } from '../api/client';
import { FormCard } from '../components/form-card';
import { usePipelines, when } from '../components/lookups';
import { ErrorNotice, fieldError, Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { word, CHANNEL_WORDS } from '../components/words';

type Inbox = Ok<'/api/v1/inboxes/{id}'>;

/** Inboxes and their channels (C5, C6): where mail arrives, whether it opens tickets; mail that failed. */
export const InboxesPage = guarded('manage_settings', 'Inbox settings', InboxesScreen);

function InboxesScreen() {
  usePageTitle('Inboxes');
  const queryClient = useQueryClient();
  const inboxes = useQuery({ queryKey: ['inboxes'], queryFn: () => call(api.GET('/api/v1/inboxes')) });
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/inboxes', { body: { name } })),
    onSuccess: () => { setName(''); void queryClient.invalidateQueries({ queryKey: ['inboxes'] }); },
  });
  return (
    <Stack maw={1000}>
      <Title order={2}>Inboxes</Title>
      <Loaded query={inboxes}>{(page) => <>{page.items.map((i) => <InboxCard key={i.id} inbox={i} />)}</>}</Loaded>
      <FormCard title="New inbox" button="Create inbox" onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <TextInput label="Inbox name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} />
      </FormCard>
      <FailedMail />
    </Stack>
  );
}

function InboxCard({ inbox }: { inbox: Inbox }) {
  const queryClient = useQueryClient();
  const pipelines = usePipelines();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['inboxes'] });
  const update = useMutation({
    mutationFn: (body: { createsTickets?: boolean; pipelineId?: number | null }) => call(api.PATCH('/api/v1/inboxes/{id}', { params: { path: { id: inbox.id } }, body })),
    onSuccess: refresh,
  });
  const removeChannel = useMutation({
    mutationFn: (channelId: number) => call(api.DELETE('/api/v1/inboxes/{id}/channels/{channelId}', { params: { path: { id: inbox.id, channelId } } })),
    onSuccess: refresh,
  });
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Title order={3} size="h4">{inbox.name}</Title>
        <Group align="flex-end">
          <Switch label="A new conversation by email or form opens a ticket" checked={inbox.createsTickets} onChange={(e) => update.mutate({ createsTickets: e.currentTarget.checked })} />
          <Select label={`Pipeline of ${inbox.name}’s tickets`} w={260} data={[{ value: '', label: 'The first pipeline' }, ...(pipelines.data ?? []).map((p) => ({ value: String(p.id), label: p.name }))]}
            value={inbox.pipelineId === null ? '' : String(inbox.pipelineId)} allowDeselect={false} onChange={(v) => update.mutate({ pipelineId: v === '' || v === null ? null : Number(v) })} />
        </Group>
        <Table>
          <Table.Thead><Table.Tr><Table.Th>Channel</Table.Th><Table.Th>Type</Table.Th><Table.Th>Address</Table.Th><Table.Th>Mailbox polled</Table.Th><Table.Th /></Table.Tr></Table.Thead>
          <Table.Tbody>
            {inbox.channels.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{c.name}</Table.Td>
                <Table.Td><Badge variant="light">{word(CHANNEL_WORDS, c.type)}</Badge></Table.Td>
                <Table.Td>{c.address ?? '—'}</Table.Td>
                <Table.Td>{c.imap === null ? '—' : `${c.imap.user} at ${c.imap.host}:${c.imap.port}${c.imap.passwordSet ? '' : ' (no password)'}`}</Table.Td>
                <Table.Td><Button size="compact-sm" variant="subtle" color="red" onClick={() => removeChannel.mutate(c.id)}>Remove</Button></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <ErrorNotice error={update.error ?? removeChannel.error} title="Not changed" />
        <EmailChannelForm inbox={inbox} onDone={refresh} />
      </Stack>
    </Paper>
  );
}

/** An email address of the inbox: mail to it arrives over SMTP, or is fetched from an IMAP mailbox. */
function EmailChannelForm({ inbox, onDone }: { inbox: Inbox; onDone: () => void }) {
  const [d, setD] = useState({ name: '', address: '', host: '', port: 993, user: '', password: '' });
  const add = useMutation({
    mutationFn: () => call(api.POST('/api/v1/inboxes/{id}/channels', {
      params: { path: { id: inbox.id } },
      body: {
        type: 'email', name: d.name, address: d.address,
        imap: d.host.trim() === '' ? null : { host: d.host.trim(), port: d.port, secure: d.port === 993, user: d.user, mailbox: 'INBOX', ...(d.password === '' ? {} : { password: d.password }) },
      },
    })),
    onSuccess: () => { setD({ name: '', address: '', host: '', port: 993, user: '', password: '' }); onDone(); },
  });
  return (
    <form onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
      <Stack gap="xs">
        <Text size="sm" fw={600}>Add an email address to {inbox.name}</Text>
        <Group grow>
          <TextInput label="Channel name" required value={d.name} onChange={(e) => setD({ ...d, name: e.currentTarget.value })} error={fieldError(add.error, 'name')} />
          <TextInput label="Address" type="email" required value={d.address} onChange={(e) => setD({ ...d, address: e.currentTarget.value })} error={fieldError(add.error, 'address')} />
        </Group>
        <Group grow>
          <TextInput label="IMAP server (optional)" value={d.host} onChange={(e) => setD({ ...d, host: e.currentTarget.value })} error={fieldError(add.error, 'imap/host')} />
          <NumberInput label="IMAP port" value={d.port} min={1} max={65535} clampBehavior="none" onChange={(v) => setD({ ...d, port: typeof v === 'number' ? v : 993 })} error={fieldError(add.error, 'imap/port')} />
          <TextInput label="IMAP user" value={d.user} onChange={(e) => setD({ ...d, user: e.currentTarget.value })} error={fieldError(add.error, 'imap/user')} />
          <PasswordInput label="IMAP password (stored sealed)" value={d.password} onChange={(e) => setD({ ...d, password: e.currentTarget.value })} error={fieldError(add.error, 'imap/password')} />
        </Group>
        <ErrorNotice error={add.error} title="Not added" />
        <Group><Button type="submit" variant="default" loading={add.isPending}>Add address</Button></Group>
      </Stack>
    </form>
  );
}

/** Incoming mail that could not be read (the failed-mail store): download it, process it again. */
function FailedMail() {
  const queryClient = useQueryClient();
  const failed = useQuery({ queryKey: ['inbound-mail', 'failed'], queryFn: () => call(api.GET('/api/v1/inbound-mail', { params: { query: { status: 'failed', limit: 50 } } })) });
  const reprocess = useMutation({
    mutationFn: (id: number) => call(api.POST('/api/v1/inbound-mail/{id}/reprocess', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['inbound-mail'] }),
  });
  return (
    <Paper withBorder p="md">
      <Title order={3} size="h4" mb="xs">Mail that could not be processed</Title>
      <Loaded query={failed}>
        {(page) => page.items.length === 0 ? <Text size="sm" c="dimmed">None: every mail received was threaded or set aside as automatic.</Text> : (
          <Table>
            <Table.Thead><Table.Tr><Table.Th>Received</Table.Th><Table.Th>From</Table.Th><Table.Th>Subject</Table.Th><Table.Th>Why</Table.Th><Table.Th>Attempts</Table.Th><Table.Th /></Table.Tr></Table.Thead>
            <Table.Tbody>
              {page.items.map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>{when(m.receivedAt)}</Table.Td>
                  <Table.Td>{m.from ?? m.envelopeFrom ?? '—'}</Table.Td>
                  <Table.Td>{m.subject ?? '—'}</Table.Td>
                  <Table.Td>{m.reason}</Table.Td>
                  <Table.Td data-testid="attempts">{m.attempts}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button component="a" size="compact-sm" variant="subtle" href={`/api/v1/inbound-mail/${m.id}/raw`}>Download</Button>
                      <Button size="compact-sm" variant="default" onClick={() => reprocess.mutate(m.id)} loading={reprocess.isPending && reprocess.variables === m.id}>Process again</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
      <ErrorNotice error={reprocess.error} title="Not processed" />
    </Paper>
  );
}

import { Anchor, Badge, Button, FileInput, Grid, Group, Paper, Select, Stack, Tabs, Text, Textarea, Title, Typography } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useHotkeys } from '@mantine/hooks';
import { AnchorLink } from './anchor-link';
import { api, call, uploadAttachment, type Message, type Thread } from '../api/client';
import { LIVE_INTERVAL_MS } from '../pages/inbox';
import { contactName, useContact, useStaff, when } from './lookups';
import { ErrorNotice, Loaded } from './notice';
import { SenderWarning } from './sender-warning';
import { TicketPanel } from './ticket-panel';
import { word, STATUS_WORDS } from './words';

/** One conversation: the messages, a reply box and an internal comment box, the ticket beside it. */
export function ThreadView({ threadId }: { threadId: number }) {
  const queryClient = useQueryClient();
  const thread = useQuery({ queryKey: ['thread', threadId], queryFn: () => call(api.GET('/api/v1/threads/{id}', { params: { path: { id: threadId } } })) });
  const staff = useStaff();
  const update = useMutation({
    mutationFn: (body: { status?: 'open' | 'closed'; assigneeId?: number | null }) => call(api.PATCH('/api/v1/threads/{id}', { params: { path: { id: threadId } }, body })),
    onSuccess: (t) => {
      queryClient.setQueryData(['thread', threadId], t);
      void queryClient.invalidateQueries({ queryKey: ['threads'] });
    },
  });
  return (
    <Loaded query={thread}>
      {(t) => (
        <Grid gap="md">
          <Grid.Col span={{ base: 12, lg: t.ticketId === null ? 12 : 7 }}>
            <Stack gap="sm">
              <Group justify="space-between" align="flex-start">
                <Title order={2} size="h3">{t.subject}</Title>
                <Badge color={t.status === 'open' ? 'green' : 'gray'}>{word(STATUS_WORDS, t.status)}</Badge>
              </Group>
              <Group gap="sm" align="flex-end">
                <Select
                  label="Assignee"
                  size="xs"
                  w={200}
                  data={[{ value: '', label: 'Unassigned' }, ...(staff.data ?? []).map((s) => ({ value: String(s.id), label: s.name }))]}
                  value={t.assigneeId === null ? '' : String(t.assigneeId)}
                  onChange={(v) => update.mutate({ assigneeId: v === null || v === '' ? null : Number(v) })}
                  allowDeselect={false}
                />
                <Button size="xs" variant="default" onClick={() => update.mutate({ status: t.status === 'open' ? 'closed' : 'open' })} loading={update.isPending}>
                  {t.status === 'open' ? 'Close thread' : 'Reopen thread'}
                </Button>
                <CustomerLine contactId={t.contactId} />
              </Group>
              {update.error !== null && <ErrorNotice error={update.error} />}
              <Messages thread={t} />
              <Composer thread={t} />
            </Stack>
          </Grid.Col>
          {t.ticketId !== null && (
            <Grid.Col span={{ base: 12, lg: 5 }}>
              <TicketPanel ticketId={t.ticketId} compact />
            </Grid.Col>
          )}
        </Grid>
      )}
    </Loaded>
  );
}

function CustomerLine({ contactId }: { contactId: number | null }) {
  const contact = useContact(contactId);
  if (contactId === null || contact.data === undefined) return null;
  return (
    <Text size="sm">
      Customer: <AnchorLink to="/contacts/$contactId" params={{ contactId: String(contactId) }}>{contactName(contact.data)}</AnchorLink> ({contact.data.email})
    </Text>
  );
}

/** A thread's first hundred messages, oldest first, asked for again every few seconds. */
function useMessages(threadId: number) {
  return useQuery({
    queryKey: ['messages', threadId],
    queryFn: () => call(api.GET('/api/v1/threads/{id}/messages', { params: { path: { id: threadId }, query: { limit: 100 } } })),
    refetchInterval: LIVE_INTERVAL_MS,
  });
}

/** The thread's messages. */
function Messages({ thread }: { thread: Thread }) {
  const messages = useMessages(thread.id);
  const staff = useStaff();
  const contact = useContact(thread.contactId);
  // A held mail from an address no contact has yet is shown under the address it claims.
  const customerName = (m: Message) => (contact.data !== undefined ? contactName(contact.data) : (m.sender?.address ?? 'Customer'));
  return (
    <Loaded query={messages}>
      {(page) => (
        <Stack gap="sm" component="ol" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Messages">
          {page.items.length === 0 && <Text c="dimmed">No messages yet.</Text>}
          {page.items.map((m) => (
            <MessageCard key={m.id} message={m}
              author={m.authorType === 'staff' ? (staff.data?.find((s) => s.id === m.staffUserId)?.name ?? 'Staff') : m.authorType === 'customer' ? customerName(m) : 'System'} />
          ))}
          {page.nextCursor !== null && <Text size="sm" c="dimmed">Only the first 100 messages are shown.</Text>}
        </Stack>
      )}
    </Loaded>
  );
}

function MessageCard({ message: m, author }: { message: Message; author: string }) {
  const comment = m.kind === 'comment';
  return (
    <li>
      <Paper withBorder p="sm" className={comment ? 'comment-box' : undefined} bg={m.authorType === 'customer' ? 'gray.0' : undefined} data-kind={m.kind} data-testid="message">
        <Group justify="space-between" mb={4}>
          <Group gap="xs">
            <Text fw={600} size="sm">{author}</Text>
            {comment && <Badge color="yellow" variant="filled" size="sm">Internal comment</Badge>}
            {m.authorType === 'customer' && <Badge color="blue" variant="light" size="sm">Customer</Badge>}
          </Group>
          <Text size="xs" c="dimmed">{when(m.createdAt)}</Text>
        </Group>
        <SenderWarning message={m} />
        {/* The API's HTML is sanitised when stored; the text is the fallback. */}
        {m.bodyHtml !== null
          ? <Typography className="message-body"><div dangerouslySetInnerHTML={{ __html: m.bodyHtml }} /></Typography>
          : <Text size="sm" className="message-body" style={{ whiteSpace: 'pre-wrap' }}>{m.bodyText}</Text>}
        {m.attachments.length > 0 && (
          <Group gap="xs" mt="xs">
            {m.attachments.map((a) => (
              <Anchor key={a.id} size="sm" href={`/api/v1/attachments/${a.id}/content`} download={a.filename}>📎 {a.filename} ({Math.ceil(a.size / 1024)} KB)</Anchor>
            ))}
          </Group>
        )}
      </Paper>
    </li>
  );
}

/** Reply to the customer, or note something for colleagues only: two tabs that look different. */
function Composer({ thread }: { thread: Thread }) {
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<'message' | 'comment'>('message');
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const box = useRef<HTMLTextAreaElement>(null);
  // A message whose sender could not be verified waits to be accepted: until then nobody is answered.
  const held = useMessages(thread.id).data?.items.some((m) => m.held) ?? false;
  // r: reply to the customer; c: an internal comment (keys work when not already typing).
  const write = (k: 'message' | 'comment') => { setKind(k); setTimeout(() => box.current?.focus(), 0); };
  useHotkeys([['r', () => write('message')], ['c', () => write('comment')]]);
  const send = useMutation({
    mutationFn: async () => {
      const attachmentIds: number[] = [];
      for (const file of files) attachmentIds.push((await uploadAttachment(file)).id);
      return call(api.POST('/api/v1/threads/{id}/messages', {
        params: { path: { id: thread.id } },
        body: { kind, bodyText: text, ...(attachmentIds.length > 0 ? { attachmentIds } : {}) },
      }));
    },
    onSuccess: () => {
      setText('');
      setFiles([]);
      void queryClient.invalidateQueries({ queryKey: ['messages', thread.id] });
      void queryClient.invalidateQueries({ queryKey: ['threads'] });
      if (thread.ticketId !== null) void queryClient.invalidateQueries({ queryKey: ['timeline', 'ticket', thread.ticketId] });
    },
  });
  const comment = kind === 'comment';
  const blocked = held && !comment;
  return (
    <Paper withBorder p="sm" className={comment ? 'comment-box' : undefined}>
      <form onSubmit={(e) => { e.preventDefault(); if (text.trim() !== '' && !blocked) send.mutate(); }}
        onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && text.trim() !== '' && !blocked) send.mutate(); }}>
        <Tabs value={kind} onChange={(v) => setKind(v === 'comment' ? 'comment' : 'message')} mb="xs">
          <Tabs.List>
            <Tabs.Tab value="message">Reply to customer</Tabs.Tab>
            <Tabs.Tab value="comment" color="yellow">Internal comment</Tabs.Tab>
          </Tabs.List>
        </Tabs>
        <Stack gap="xs">
          <Textarea
            ref={box}
            label={comment ? 'Internal comment (only staff see it)' : 'Reply (the customer sees it on the portal and by email)'}
            autosize minRows={3} maxRows={14} value={text} onChange={(e) => setText(e.currentTarget.value)}
            {...(blocked ? { description: 'Accept the message above before replying: its sender could not be verified. An internal comment is possible.' } : {})}
          />
          <Group justify="space-between" align="flex-end">
            <FileInput label="Attachments" multiple clearable value={files} onChange={setFiles} w={280} size="xs" />
            <Group gap="xs">
              <Text size="xs" c="dimmed">Ctrl+Enter sends</Text>
              <Button type="submit" color={comment ? 'yellow' : undefined} loading={send.isPending} disabled={text.trim() === '' || blocked}>
                {comment ? 'Add comment' : 'Send reply'}
              </Button>
            </Group>
          </Group>
          {send.error !== null && <ErrorNotice error={send.error} title="Not sent" />}
        </Stack>
      </form>
    </Paper>
  );
}


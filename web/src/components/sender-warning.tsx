import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Message } from '../api/client';
import { useStaff, when } from './lookups';
import { ErrorNotice } from './notice';

type Sender = NonNullable<Message['sender']>;

/** The checks' own words, for the small print. */
function checksText(s: Sender): string {
  const spf = s.spf === 'unchecked' ? 'SPF not checked (fetched from a mailbox)' : `SPF ${s.spf}`;
  const dkim = `DKIM ${s.dkim}${s.dkimDomain === null ? '' : ` (${s.dkimDomain})`}`;
  const dmarc = `DMARC ${s.dmarc}${s.dmarcPolicy === null ? '' : ` (policy ${s.dmarcPolicy})`}`;
  return [spf, dkim, dmarc].join(' · ');
}

/**
 * On a message whose sender could not be verified (anyone can write any address as the sender):
 * a warning, and for a held one what holding means and the button that accepts it.
 */
export function SenderWarning({ message: m }: { message: Message }) {
  const staff = useStaff();
  const queryClient = useQueryClient();
  const accept = useMutation({
    mutationFn: () => call(api.POST('/api/v1/threads/{id}/messages/{messageId}/accept', { params: { path: { id: m.threadId, messageId: m.id } } })),
    onSuccess: () => {
      // Accepting may file the message, its thread and its ticket under a contact made for its sender.
      for (const queryKey of [['messages', m.threadId], ['thread', m.threadId], ['threads'], ['ticket']]) void queryClient.invalidateQueries({ queryKey });
    },
  });
  const sender = m.sender;
  if (sender === null || (sender.verified && !m.held)) return null;
  const acceptedBy = m.acceptedBy === null ? 'a staff member' : (staff.data?.find((s) => s.id === m.acceptedBy)?.name ?? 'a staff member');
  return (
    <Alert color={m.held ? 'orange' : 'yellow'} variant="light" mb="xs" role="note" title={`The sender of this message could not be verified: it may not come from ${sender.address}.`}>
      <Stack gap={6}>
        {m.held && (
          <>
            <Text size="sm">
              Until someone accepts it, customers do not see it on the portal (nor a ticket it opened), and the conversation cannot be answered.
              Accept it only when you are sure who wrote it, for example after checking with the customer another way.
            </Text>
            <Group gap="xs">
              <Button size="xs" color="orange" onClick={() => accept.mutate()} loading={accept.isPending}>Accept message</Button>
            </Group>
            {accept.error !== null && <ErrorNotice error={accept.error} title="Not accepted" />}
          </>
        )}
        {m.acceptedAt !== null && <Text size="sm">Accepted by {acceptedBy}, {when(m.acceptedAt)}.</Text>}
        <Text size="xs" c="dimmed">Checks on the mail: {checksText(sender)}</Text>
      </Stack>
    </Alert>
  );
}

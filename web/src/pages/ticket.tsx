import { Badge, Grid, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { AnchorLink } from '../components/anchor-link';
import { api, call } from '../api/client';
import { when } from '../components/lookups';
import { Loaded } from '../components/notice';
import { TicketPanel } from '../components/ticket-panel';
import { Timeline } from '../components/timeline';
import { useDocumentTitle } from '../components/document-title';

const route = getRouteApi('/tickets/$ticketId');

/** A ticket: its properties, every conversation thread (the one the portal shows marked, P16), its timeline. */
export function TicketPage() {
  const { ticketId } = route.useParams();
  const id = Number(ticketId);
  useDocumentTitle(`Ticket #${id}`);
  const threads = useQuery({
    queryKey: ['threads', 'ticket', id],
    queryFn: () => call(api.GET('/api/v1/threads', { params: { query: { ticketId: id, limit: 100 } } })),
  });
  return (
    <Grid gap="md">
      <Grid.Col span={{ base: 12, md: 4 }}><TicketPanel ticketId={id} /></Grid.Col>
      <Grid.Col span={{ base: 12, md: 8 }}>
        <Stack gap="lg">
          <Stack gap="xs">
            <Title order={2} size="h4">Conversation threads</Title>
            <Loaded query={threads}>
              {(page) => {
                // The portal shows the newest thread (by creation) of a ticket; mark it.
                const shown = [...page.items].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id)[0]?.id;
                return (
                  <Stack gap="xs">
                    {page.items.length === 0 && <Text size="sm" c="dimmed">No threads.</Text>}
                    {page.items.map((t) => (
                      <Paper key={t.id} withBorder p="sm">
                        <Group justify="space-between">
                          <AnchorLink to="/inbox" search={{ thread: t.id, view: 'all', status: 'all' }}>{t.subject}</AnchorLink>
                          <Group gap="xs">
                            {t.id === shown && <Badge color="indigo" variant="light">Shown on the portal</Badge>}
                            <Badge color={t.status === 'open' ? 'green' : 'gray'}>{t.status}</Badge>
                          </Group>
                        </Group>
                        <Text size="xs" c="dimmed">Started {when(t.createdAt)} · last message {when(t.lastMessageAt)}</Text>
                      </Paper>
                    ))}
                  </Stack>
                );
              }}
            </Loaded>
          </Stack>
          <Timeline target="ticket" id={id} />
        </Stack>
      </Grid.Col>
    </Grid>
  );
}

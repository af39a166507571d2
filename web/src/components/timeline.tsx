import { Badge, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { when } from './lookups';
import { Loaded } from './notice';

const LABEL: Record<string, { text: string; color: string }> = {
  email: { text: 'Email', color: 'blue' },
  note: { text: 'Internal note', color: 'yellow' },
  ticket_created: { text: 'Ticket created', color: 'green' },
  stage_changed: { text: 'Stage changed', color: 'grape' },
};

/** A record's timeline, newest first: portal and mail messages show as email engagements (P27). */
export function Timeline({ target, id }: { target: 'contact' | 'company' | 'ticket'; id: number }) {
  const timeline = useQuery({
    queryKey: ['timeline', target, id],
    queryFn: () => {
      const params = { path: { id }, query: { limit: 50 } };
      if (target === 'contact') return call(api.GET('/api/v1/contacts/{id}/timeline', { params }));
      if (target === 'company') return call(api.GET('/api/v1/companies/{id}/timeline', { params }));
      return call(api.GET('/api/v1/tickets/{id}/timeline', { params }));
    },
  });
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">Timeline</Title>
      <Loaded query={timeline}>
        {(page) => page.items.length === 0 ? <Text c="dimmed" size="sm">Nothing has happened yet.</Text> : (
          <Stack gap="xs" component="ol" style={{ listStyle: 'none', margin: 0, padding: 0 }} aria-label="Timeline">
            {page.items.map((e) => {
              const label = LABEL[e.type] ?? { text: e.type, color: 'gray' };
              return (
                <li key={e.id}>
                  <Paper withBorder p="xs">
                    <Group justify="space-between" gap="xs">
                      <Group gap="xs"><Badge color={label.color} variant="light" size="sm">{label.text}</Badge><Text size="sm" fw={500}>{e.title}</Text></Group>
                      <Text size="xs" c="dimmed">{when(e.occurredAt)}</Text>
                    </Group>
                    {e.body !== null && <Text size="sm" c="dimmed" lineClamp={3} mt={4} style={{ whiteSpace: 'pre-wrap' }}>{e.body}</Text>}
                  </Paper>
                </li>
              );
            })}
          </Stack>
        )}
      </Loaded>
    </Stack>
  );
}

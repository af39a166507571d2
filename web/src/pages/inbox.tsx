import { Badge, Box, Button, Grid, Group, Paper, ScrollArea, SegmentedControl, Select, Stack, Text, TextInput, Title, UnstyledButton } from '@mantine/core';
import { useDebouncedValue, useHotkeys } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi, useNavigate } from '@tanstack/react-router';
import { useEffect, useRef, useState } from 'react';
import { api, call } from '../api/client';
import { ErrorNotice, Loading } from '../components/notice';
import { useInboxes, useStaff, when } from '../components/lookups';
import { ThreadView } from '../components/thread-view';
import { useMe } from '../session';
import { usePageTitle } from '../components/page-title';

export interface InboxSearch {
  inboxId?: number | undefined;
  status?: 'closed' | 'all' | undefined;
  view?: 'unassigned' | 'mine' | 'all' | undefined;
  q?: string | undefined;
  thread?: number | undefined;
}

/** How often open screens ask for news: a customer's portal reply shows up without reloading. */
export const LIVE_INTERVAL_MS = 4000;

const route = getRouteApi('/inbox');

/** Threads by inbox and status, unassigned / mine / all, with search; the open thread beside (C5). */
export function InboxPage() {
  usePageTitle('Inbox');
  const search = route.useSearch();
  const navigate = useNavigate({ from: '/inbox' });
  const me = useMe();
  const inboxes = useInboxes();
  const staff = useStaff();
  const [typed, setTyped] = useState(search.q ?? '');
  const [q] = useDebouncedValue(typed.trim(), 250);
  useEffect(() => {
    if ((search.q ?? '') !== q) void navigate({ search: (s) => ({ ...s, q: q === '' ? undefined : q }), replace: true });
  }, [q, search.q, navigate]);

  // The first view shows work: what is mine and what nobody has taken yet.
  const view = search.view ?? 'mine_and_unassigned';
  const status = search.status ?? 'open';
  const threads = useQuery({
    queryKey: ['threads', search.inboxId, status, view, search.q],
    queryFn: () => call(api.GET('/api/v1/threads', {
      params: {
        query: {
          limit: 50,
          ...(search.inboxId === undefined ? {} : { inboxId: search.inboxId }),
          ...(status === 'all' ? {} : { status }),
          ...(view === 'unassigned' ? { unassigned: true } : view === 'mine' ? { assigneeId: me.id } : view === 'mine_and_unassigned' ? { assigneeId: me.id, unassigned: true } : {}),
          ...(search.q === undefined ? {} : { q: search.q }),
        },
      },
    })),
    refetchInterval: LIVE_INTERVAL_MS,
  });
  // Keys (not while typing): j / k the next / previous thread, / the search box.
  const searchBox = useRef<HTMLInputElement>(null);
  const move = (step: number) => {
    const items = threads.data?.items ?? [];
    if (items.length === 0) return;
    const at = items.findIndex((x) => x.id === search.thread);
    const next = items[Math.min(items.length - 1, Math.max(0, at === -1 ? 0 : at + step))];
    if (next !== undefined) void navigate({ search: (s) => ({ ...s, thread: next.id }) });
  };
  useHotkeys([['j', () => move(1)], ['k', () => move(-1)], ['/', () => searchBox.current?.focus()]]);
  const staffName = (id: number | null) => (id === null ? null : (staff.data?.find((s) => s.id === id)?.name ?? `#${id}`));

  return (
    <Grid gap="md">
      <Grid.Col span={{ base: 12, md: 4 }}>
        <Stack gap="sm">
          <Group justify="space-between">
            <Title order={2}>Inbox</Title>
            <Button component={Link} to="/tickets/new" variant="default" size="xs">New ticket</Button>
          </Group>
          <Text size="xs" c="dimmed" visibleFrom="sm">Keys: j / k next or previous thread · / search · r reply · c comment · Ctrl+Enter send</Text>
          <Select
            label="Inbox"
            data={[{ value: '', label: 'All inboxes' }, ...(inboxes.data ?? []).map((i) => ({ value: String(i.id), label: i.name }))]}
            value={search.inboxId === undefined ? '' : String(search.inboxId)}
            onChange={(v) => void navigate({ search: (s) => ({ ...s, inboxId: v === null || v === '' ? undefined : Number(v), thread: undefined }) })}
            allowDeselect={false}
          />
          <SegmentedControl
            aria-label="Whose threads"
            data={[{ value: 'mine_and_unassigned', label: 'Mine and unassigned' }, { value: 'unassigned', label: 'Unassigned' }, { value: 'mine', label: 'Mine' }, { value: 'all', label: 'All' }]}
            value={view}
            fullWidth
            size="xs"
            onChange={(v) => void navigate({ search: (s) => ({ ...s, view: v === 'mine_and_unassigned' ? undefined : (v as InboxSearch['view']) }) })}
          />
          <SegmentedControl
            aria-label="Status"
            data={[{ value: 'open', label: 'Open' }, { value: 'closed', label: 'Closed' }, { value: 'all', label: 'Any status' }]}
            value={status}
            onChange={(v) => void navigate({ search: (s) => ({ ...s, status: v === 'open' ? undefined : (v) }) })}
          />
          <TextInput ref={searchBox} label="Search subjects" type="search" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} placeholder="Words in the subject" />
          {threads.error !== null && <ErrorNotice error={threads.error} />}
          {threads.isPending ? <Loading /> : (
            <Paper withBorder>
              <ScrollArea.Autosize mah="calc(100vh - 420px)" type="auto">
                {threads.data?.items.length === 0 && <Text p="md" c="dimmed">No threads here.</Text>}
                <Stack gap={0} component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }} aria-label="Threads">
                  {threads.data?.items.map((t) => (
                    <li key={t.id}>
                      <UnstyledButton
                        className="thread-row"
                        data-active={search.thread === t.id}
                        w="100%"
                        p="sm"
                        style={{ borderBottom: '1px solid var(--mantine-color-gray-2)' }}
                        onClick={() => void navigate({ search: (s) => ({ ...s, thread: t.id }) })}
                        aria-current={search.thread === t.id ? 'true' : undefined}
                      >
                        <Group justify="space-between" wrap="nowrap" gap="xs">
                          <Text fw={600} size="sm" lineClamp={1}>{t.subject}</Text>
                          {t.held && <Badge color="orange" size="sm" style={{ flexShrink: 0 }} title="A message here may not come from who it says; it waits for someone to accept it">Unverified sender</Badge>}
                          {t.status === 'closed' && <Badge color="gray" size="sm">Closed</Badge>}
                        </Group>
                        <Text size="xs" lineClamp={1}>{t.contact?.name ?? 'No contact'}</Text>
                        <Group justify="space-between" gap="xs">
                          <Text size="xs" c="dimmed">{when(t.lastMessageAt)}</Text>
                          <Text size="xs" c="dimmed">{staffName(t.assigneeId) ?? 'Unassigned'}</Text>
                        </Group>
                      </UnstyledButton>
                    </li>
                  ))}
                </Stack>
              </ScrollArea.Autosize>
            </Paper>
          )}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 8 }}>
        {search.thread === undefined
          ? <Box p="xl"><Text c="dimmed">Choose a thread to read it and answer.</Text></Box>
          : <ThreadView key={search.thread} threadId={search.thread} />}
      </Grid.Col>
    </Grid>
  );
}

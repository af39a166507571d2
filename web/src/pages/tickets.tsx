import { ActionIcon, Button, Checkbox, Grid, Group, Menu, Modal, NavLink, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, getRouteApi, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api, call } from '../api/client';
import { ErrorNotice } from '../components/notice';
import { useTicketProperties } from '../components/lookups';
import { TicketBoard } from '../components/ticket-board';
import { TicketFilters } from '../components/ticket-filters';
import { ColumnsMenu, TicketTable } from '../components/ticket-table';
import { can, useMe } from '../session';
import { columnsOf, hasFilters, searchOfView, viewFiltersOf, type TicketView, type TicketsSearch } from './tickets-search';
import { usePageTitle } from '../components/page-title';

const route = getRouteApi('/tickets');

/** Tickets (C10): saved views, filters, chosen columns and sort, as a table or a board by stage. */
export function TicketsPage() {
  usePageTitle('Tickets');
  const search = route.useSearch();
  const navigate = useNavigate({ from: '/tickets' });
  const me = useMe();
  const properties = useTicketProperties();
  const propertyType = (key: string) => properties.data?.find((p) => p.key === key)?.type;
  const views = useQuery({ queryKey: ['ticket-views'], queryFn: () => call(api.GET('/api/v1/ticket-views')), select: (r) => r.items });
  const current = views.data?.find((v) => v.id === search.view);
  const setSearch = (next: TicketsSearch) => void navigate({ search: next });
  const columns = columnsOf(search);

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>Tickets{current === undefined ? '' : ` · ${current.name}`}</Title>
        <Group gap="xs">
          <SegmentedControl size="xs" aria-label="Show as" data={[{ value: 'table', label: 'Table' }, { value: 'board', label: 'Board' }]} value={search.mode ?? 'table'}
            onChange={(v) => setSearch({ ...search, mode: v === 'board' ? 'board' : undefined })} />
          <Button component={Link} to="/tickets/new" size="xs" variant="default">New ticket</Button>
        </Group>
      </Group>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 3, lg: 2 }}>
          <ViewList views={views.data ?? []} current={search.view} onPick={(v) => setSearch({ ...searchOfView(v), mode: search.mode })} onAll={() => setSearch({ mode: search.mode })} />
          <ErrorNotice error={views.error} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 9, lg: 10 }}>
          <Stack gap="sm">
            <TicketFilters search={search} onChange={(next) => setSearch({ ...next, view: undefined })} />
            <Group justify="space-between" gap="xs">
              <Group gap="xs">
                <SaveView search={search} current={current} columns={columns} propertyType={propertyType} onSaved={(v) => setSearch({ ...search, view: v.id })} />
                {hasFilters(search) && <Button size="xs" variant="subtle" onClick={() => setSearch({ mode: search.mode, sort: search.sort, cols: search.cols })}>Clear filters</Button>}
              </Group>
              {search.mode !== 'board' && <ColumnsMenu columns={columns} onChange={(cols) => setSearch({ ...search, cols: cols.join(',') })} />}
            </Group>
            {search.mode === 'board'
              ? <TicketBoard search={search} meId={me.id} propertyType={propertyType} onPipeline={(pipelineId) => setSearch({ ...search, pipelineId, stageId: undefined })} />
              : <TicketTable search={search} meId={me.id} columns={columns} propertyType={propertyType} onSort={(sort) => setSearch({ ...search, sort })} />}
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function ViewList({ views, current, onPick, onAll }: { views: TicketView[]; current: number | undefined; onPick: (v: TicketView) => void; onAll: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: number) => call(api.DELETE('/api/v1/ticket-views/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['ticket-views'] }),
  });
  const shared = views.filter((v) => v.shared);
  const own = views.filter((v) => !v.shared);
  const item = (v: TicketView) => (
    <Group key={v.id} gap={0} wrap="nowrap">
      <NavLink label={v.name} active={current === v.id} onClick={() => onPick(v)} style={{ flex: 1 }} />
      {v.canChange && (
        <Menu position="bottom-end" withinPortal>
          <Menu.Target><ActionIcon variant="subtle" size="sm" color="gray" aria-label={`Options for the view ${v.name}`}>⋯</ActionIcon></Menu.Target>
          <Menu.Dropdown><Menu.Item color="red" onClick={() => remove.mutate(v.id)}>Delete this view</Menu.Item></Menu.Dropdown>
        </Menu>
      )}
    </Group>
  );
  return (
    <Stack gap={2} component="nav" aria-label="Views">
      <Text size="xs" fw={700} c="dimmed" tt="uppercase">Views</Text>
      <NavLink label="All tickets" active={current === undefined} onClick={onAll} />
      {shared.map(item)}
      {own.length > 0 && <Text size="xs" fw={700} c="dimmed" tt="uppercase" mt="xs">Your views</Text>}
      {own.map(item)}
      <ErrorNotice error={remove.error} title="Not deleted" />
    </Stack>
  );
}

/** Saves the screen's filters, sort and columns: as a new view, or into the view shown when it may change. */
function SaveView({ search, current, columns, propertyType, onSaved }: { search: TicketsSearch; current: TicketView | undefined; columns: string[]; propertyType: (key: string) => string | undefined; onSaved: (v: TicketView) => void }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const body = () => ({ filters: viewFiltersOf(search, propertyType), sort: (search.sort ?? null) as never, columns: search.cols === undefined ? null : columns });
  const done = (v: TicketView) => {
    void queryClient.invalidateQueries({ queryKey: ['ticket-views'] });
    setOpen(false);
    onSaved(v);
  };
  const create = useMutation({ mutationFn: () => call(api.POST('/api/v1/ticket-views', { body: { name, shared, ...body() } })), onSuccess: done });
  const update = useMutation({ mutationFn: (id: number) => call(api.PATCH('/api/v1/ticket-views/{id}', { params: { path: { id } }, body: body() })), onSuccess: done });
  return (
    <>
      <Button size="xs" variant="default" onClick={() => { setName(''); setShared(false); setOpen(true); }}>Save view…</Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Save this view">
        <Stack gap="sm">
          {current?.canChange === true && (
            <Button variant="light" onClick={() => update.mutate(current.id)} loading={update.isPending}>Update “{current.name}”</Button>
          )}
          <form onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
            <Stack gap="sm">
              <TextInput label="Name of a new view" required value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus />
              {can(me, 'manage_settings')
                ? <Checkbox label="Share with every staff member" checked={shared} onChange={(e) => setShared(e.currentTarget.checked)} />
                : <Text size="xs" c="dimmed">Only you will see it. Staff who manage settings can share views with everyone.</Text>}
              <ErrorNotice error={create.error ?? update.error} title="Not saved" />
              <Group justify="flex-end"><Button type="submit" loading={create.isPending}>Save view</Button></Group>
            </Stack>
          </form>
        </Stack>
      </Modal>
    </>
  );
}

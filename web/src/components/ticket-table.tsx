import { Badge, Button, Checkbox, Group, Menu, Stack, Table, Text, UnstyledButton } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Ok } from '../api/client';
import { BASE_COLUMNS, listQuery, type TicketsSearch } from '../pages/tickets-search';
import { AnchorLink } from './anchor-link';
import { usePipelines, useStaff, useTicketProperties, when } from './lookups';
import { ErrorNotice, Loading } from './notice';

export type TicketItem = Ok<'/api/v1/tickets'>['items'][number];

const LABELS: Record<string, string> = {
  subject: 'Subject', contact: 'Contact', company: 'Company', pipeline: 'Pipeline', stage: 'Stage', status: 'Status',
  priority: 'Priority', owner: 'Owner', createdAt: 'Created', lastActivityAt: 'Last activity',
};
/** Columns whose header sorts the list, by the sort's name. */
const SORTABLE: Record<string, string> = { subject: 'subject', createdAt: 'createdAt', lastActivityAt: 'lastActivityAt' };
const PAGE = 25;

/** Which columns show, in a menu of checkboxes: the built-in ones, then every custom property. */
export function ColumnsMenu({ columns, onChange }: { columns: string[]; onChange: (columns: string[]) => void }) {
  const properties = useTicketProperties();
  const all = [...BASE_COLUMNS.map((c) => ({ key: c, label: LABELS[c] ?? c })), ...(properties.data ?? []).map((p) => ({ key: `properties.${p.key}`, label: p.label }))];
  const toggle = (key: string, on: boolean) => {
    const next = on ? all.map((c) => c.key).filter((k) => k === key || columns.includes(k)) : columns.filter((k) => k !== key);
    if (next.length > 0) onChange(next);
  };
  return (
    <Menu closeOnItemClick={false} position="bottom-end" withinPortal>
      <Menu.Target><Button size="xs" variant="default">Columns</Button></Menu.Target>
      <Menu.Dropdown>
        {all.map((c) => (
          <Menu.Item key={c.key} component="div">
            <Checkbox size="xs" label={c.label} checked={columns.includes(c.key)} onChange={(e) => toggle(c.key, e.currentTarget.checked)} />
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}

/** The tickets as a table: chosen columns, a sort by header, pages by cursor (earlier pages remembered). */
export function TicketTable({ search, meId, columns, propertyType, onSort }: { search: TicketsSearch; meId: number; columns: string[]; propertyType: (key: string) => string | undefined; onSort: (sort: string) => void }) {
  const query = listQuery(search, meId, propertyType, columns);
  const key = JSON.stringify(query);
  const [pages, setPages] = useState<{ key: string; cursors: string[] }>({ key, cursors: [] });
  const cursors = pages.key === key ? pages.cursors : [];
  const cursor = cursors[cursors.length - 1];
  const list = useQuery({
    queryKey: ['tickets', 'list', query, cursor],
    queryFn: () => call(api.GET('/api/v1/tickets', { params: { query: { ...query, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) } } })),
    placeholderData: keepPreviousData,
  });
  const sort = search.sort ?? '-lastActivityAt';
  if (list.error !== null) return <ErrorNotice error={list.error} />;
  if (list.data === undefined) return <Loading />;
  const items = list.data.items;
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={Math.max(560, columns.length * 105)}>
        <Table striped highlightOnHover verticalSpacing="xs" aria-label="Tickets" style={{ opacity: list.isPlaceholderData ? 0.6 : 1 }}>
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => <HeaderCell key={c} column={c} sort={sort} onSort={onSort} />)}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((t) => <Table.Tr key={t.id}>{columns.map((c) => <Table.Td key={c}><Cell column={c} ticket={t} /></Table.Td>)}</Table.Tr>)}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {items.length === 0 && <Text size="sm" c="dimmed" ta="center" py="md">No tickets match these filters.</Text>}
      <Group justify="space-between">
        <Text size="xs" c="dimmed">Page {cursors.length + 1}</Text>
        <Group gap="xs">
          <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setPages({ key, cursors: cursors.slice(0, -1) })}>Previous page</Button>
          <Button size="xs" variant="default" disabled={list.data.nextCursor === null} onClick={() => { const next = list.data.nextCursor; if (next !== null) setPages({ key, cursors: [...cursors, next] }); }}>Next page</Button>
        </Group>
      </Group>
    </Stack>
  );
}

function HeaderCell({ column, sort, onSort }: { column: string; sort: string; onSort: (sort: string) => void }) {
  const properties = useTicketProperties();
  const label = LABELS[column] ?? properties.data?.find((p) => `properties.${p.key}` === column)?.label ?? column.replace(/^properties\./, '');
  const by = SORTABLE[column];
  if (by === undefined) return <Table.Th>{label}</Table.Th>;
  const active = sort === by || sort === `-${by}`;
  const descending = sort === `-${by}`;
  // Dates start newest first; the subject A to Z.
  const next = active ? (descending ? by : `-${by}`) : by === 'subject' ? by : `-${by}`;
  return (
    <Table.Th aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
      <UnstyledButton onClick={() => onSort(next)} fw={700} fz="sm">{label}{active ? (descending ? ' ↓' : ' ↑') : ''}</UnstyledButton>
    </Table.Th>
  );
}

function Cell({ column, ticket: t }: { column: string; ticket: TicketItem }) {
  const pipelines = usePipelines();
  const staff = useStaff();
  switch (column) {
    case 'subject':
      return <AnchorLink to="/tickets/$ticketId" params={{ ticketId: String(t.id) }} size="sm" fw={500}>{t.subject}</AnchorLink>;
    case 'contact':
      return <Text size="sm">{(t.contacts ?? []).map((c) => c.name).join(', ')}</Text>;
    case 'company':
      return <Text size="sm">{(t.companies ?? []).map((c) => c.name).join(', ')}</Text>;
    case 'pipeline':
      return <Text size="sm">{pipelines.data?.find((p) => p.id === t.pipelineId)?.name}</Text>;
    case 'stage':
      return <Text size="sm">{pipelines.data?.find((p) => p.id === t.pipelineId)?.stages.find((s) => s.id === t.stageId)?.name}</Text>;
    case 'status':
      return <Badge size="sm" color={t.status === 'open' ? 'green' : 'gray'} style={{ overflow: 'visible' }} styles={{ label: { overflow: 'visible' } }}>{t.status}</Badge>;
    case 'priority':
      return t.priority === null ? null : <Badge size="sm" variant="light" color={t.priority === 'urgent' ? 'red' : t.priority === 'high' ? 'orange' : 'gray'} style={{ overflow: 'visible' }} styles={{ label: { overflow: 'visible' } }}>{t.priority}</Badge>;
    case 'owner':
      return <Text size="sm">{t.ownerId === null ? '' : (staff.data?.find((s) => s.id === t.ownerId)?.name ?? '')}</Text>;
    case 'createdAt':
      return <Text size="sm">{when(t.createdAt)}</Text>;
    case 'lastActivityAt':
      return <Text size="sm">{when(t.lastActivityAt)}</Text>;
    default: {
      const value = t.properties?.[column.replace(/^properties\./, '')];
      return <Text size="sm">{value === undefined || value === null ? '' : value === true ? 'Yes' : value === false ? 'No' : String(value)}</Text>;
    }
  }
}

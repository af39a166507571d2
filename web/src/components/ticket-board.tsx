import { ActionIcon, Badge, Group, Menu, Paper, ScrollArea, Select, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Pipeline } from '../api/client';
import { listQuery, type TicketsSearch } from '../pages/tickets-search';
import { AnchorLink } from './anchor-link';
import { usePipelines, useStaff } from './lookups';
import { ErrorNotice, Loading } from './notice';
import type { TicketItem } from './ticket-table';

const PER_COLUMN = 50;
const DRAG_TYPE = 'application/x-portico-ticket';

/**
 * One pipeline's tickets by stage. A card dragged to another column moves the ticket to that
 * stage; every card also has a "Move to stage" menu, for the keyboard and for touch screens.
 * (The browser's own drag and drop: no library, nothing more to download.)
 */
export function TicketBoard({ search, meId, propertyType, onPipeline }: { search: TicketsSearch; meId: number; propertyType: (key: string) => string | undefined; onPipeline: (id: number) => void }) {
  const pipelines = usePipelines();
  const queryClient = useQueryClient();
  const pipeline = pipelines.data?.find((p) => p.id === search.pipelineId) ?? pipelines.data?.[0];
  const move = useMutation({
    mutationFn: ({ ticket, stageId }: { ticket: TicketItem; stageId: number }) => call(api.PATCH('/api/v1/tickets/{id}', { params: { path: { id: ticket.id } }, body: { stageId } })),
    onSettled: (_data, _error, { ticket }) => {
      void queryClient.invalidateQueries({ queryKey: ['tickets'] });
      void queryClient.invalidateQueries({ queryKey: ['ticket', ticket.id] });
    },
  });
  if (pipelines.error !== null) return <ErrorNotice error={pipelines.error} />;
  if (pipeline === undefined) return pipelines.isPending ? <Loading /> : <Text c="dimmed">No pipelines yet.</Text>;
  const stages = search.stageId === undefined ? pipeline.stages : pipeline.stages.filter((s) => s.id === search.stageId);
  return (
    <Stack gap="xs">
      <Group gap="xs" align="flex-end">
        <Select size="xs" label="Pipeline on the board" data={(pipelines.data ?? []).map((p) => ({ value: String(p.id), label: p.name }))} value={String(pipeline.id)} allowDeselect={false}
          onChange={(v) => v !== null && onPipeline(Number(v))} />
        <Text size="xs" c="dimmed" pb={6}>Drag a card to another stage, or use its ⋯ menu.</Text>
      </Group>
      <ErrorNotice error={move.error} title="Not moved" />
      <ScrollArea type="auto" offsetScrollbars>
        <Group align="flex-start" wrap="nowrap" gap="sm" pb="sm">
          {stages.map((stage) => (
            <Column key={stage.id} pipeline={pipeline} stageId={stage.id} search={search} meId={meId} propertyType={propertyType}
              onMove={(ticket, stageId) => { if (ticket.stageId !== stageId) move.mutate({ ticket, stageId }); }} />
          ))}
        </Group>
      </ScrollArea>
    </Stack>
  );
}

function Column({ pipeline, stageId, search, meId, propertyType, onMove }: { pipeline: Pipeline; stageId: number; search: TicketsSearch; meId: number; propertyType: (key: string) => string | undefined; onMove: (ticket: TicketItem, stageId: number) => void }) {
  const stage = pipeline.stages.find((s) => s.id === stageId);
  const query = { ...listQuery({ ...search, pipelineId: pipeline.id, stageId, sort: undefined }, meId, propertyType, ['contact']), limit: PER_COLUMN };
  const list = useQuery({ queryKey: ['tickets', 'board', query], queryFn: () => call(api.GET('/api/v1/tickets', { params: { query } })) });
  const [over, setOver] = useState(false);
  const items = list.data?.items ?? [];
  const byId = new Map(items.map((t) => [t.id, t]));
  return (
    <Paper withBorder p="xs" w={260} miw={260} bg={over ? 'var(--mantine-color-blue-light)' : 'var(--mantine-color-gray-0)'}
      role="region" aria-label={`Stage ${stage?.name ?? ''}`}
      onDragOver={(e) => { if (e.dataTransfer.types.includes(DRAG_TYPE)) { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; setOver(true); } }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        try {
          const dropped = JSON.parse(e.dataTransfer.getData(DRAG_TYPE)) as TicketItem;
          onMove(byId.get(dropped.id) ?? dropped, stageId);
        } catch {
          // Something else was dropped here: nothing to move.
        }
      }}>
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Text fw={700} size="sm" truncate>{stage?.name}</Text>
        <Badge size="sm" variant="light" color={stage?.state === 'closed' ? 'gray' : 'green'}>{list.data === undefined ? '…' : `${items.length}${list.data.nextCursor === null ? '' : '+'}`}</Badge>
      </Group>
      {list.error !== null && <ErrorNotice error={list.error} />}
      <Stack gap={6} mih={80}>
        {items.map((t) => <Card key={t.id} ticket={t} pipeline={pipeline} onMove={onMove} />)}
        {list.data !== undefined && items.length === 0 && <Text size="xs" c="dimmed" ta="center" py="sm">No tickets</Text>}
      </Stack>
    </Paper>
  );
}

function Card({ ticket: t, pipeline, onMove }: { ticket: TicketItem; pipeline: Pipeline; onMove: (ticket: TicketItem, stageId: number) => void }) {
  const staff = useStaff();
  const owner = t.ownerId === null ? null : staff.data?.find((s) => s.id === t.ownerId)?.name;
  return (
    <Paper withBorder p="xs" shadow="xs" draggable style={{ cursor: 'grab' }} data-ticket-card={t.id}
      onDragStart={(e) => { e.dataTransfer.setData(DRAG_TYPE, JSON.stringify(t)); e.dataTransfer.effectAllowed = 'move'; }}>
      <Group justify="space-between" align="flex-start" wrap="nowrap" gap={4}>
        <AnchorLink to="/tickets/$ticketId" params={{ ticketId: String(t.id) }} size="sm" fw={500} draggable={false}>{t.subject}</AnchorLink>
        <Menu position="bottom-end" withinPortal>
          <Menu.Target><ActionIcon variant="subtle" color="gray" size="sm" aria-label={`Move “${t.subject}” to another stage`}>⋯</ActionIcon></Menu.Target>
          <Menu.Dropdown>
            <Menu.Label>Move to stage</Menu.Label>
            {pipeline.stages.map((s) => (
              <Menu.Item key={s.id} disabled={s.id === t.stageId} onClick={() => onMove(t, s.id)}>{s.name}{s.state === 'closed' ? ' (closed)' : ''}</Menu.Item>
            ))}
          </Menu.Dropdown>
        </Menu>
      </Group>
      <Text size="xs" c="dimmed">#{t.id}{(t.contacts ?? []).length > 0 ? ` · ${(t.contacts ?? []).map((c) => c.name).join(', ')}` : ''}</Text>
      <Group gap={4} mt={4}>
        {t.priority !== null && <Badge size="xs" variant="light" color={t.priority === 'urgent' ? 'red' : t.priority === 'high' ? 'orange' : 'gray'}>{t.priority}</Badge>}
        {owner !== null && owner !== undefined && <Text size="xs" c="dimmed">{owner}</Text>}
      </Group>
    </Paper>
  );
}

import { Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Pipeline } from '../api/client';
import { FormCard } from '../components/form-card';
import { guarded } from '../components/guarded';
import { ErrorNotice, fieldError, Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { word, PROPERTY_TYPE_WORDS } from '../components/words';
import { ALL_LANGUAGES, TranslationFields, translated, type TextTranslations } from '../components/translations';

/** Pipelines with their stages (each open or closed: what customers see as Open or Closed), and custom ticket properties (C2). */
export const TicketSettingsPage = guarded('manage_settings', 'Ticket settings', TicketSettingsScreen);

function TicketSettingsScreen() {
  usePageTitle('Pipelines and properties');
  const queryClient = useQueryClient();
  const pipelines = useQuery({ queryKey: ['pipelines'], queryFn: () => call(api.GET('/api/v1/pipelines')) });
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/pipelines', { body: { name, stages: [{ name: 'New', state: 'open' }, { name: 'Solved', state: 'closed' }] } })),
    onSuccess: () => { setName(''); void queryClient.invalidateQueries({ queryKey: ['pipelines'] }); },
  });
  return (
    <Stack maw={900}>
      <Title order={2}>Pipelines and ticket properties</Title>
      <Loaded query={pipelines}>{(page) => <>{page.items.map((p) => <PipelineCard key={p.id} pipeline={p} />)}</>}</Loaded>
      <FormCard title="New pipeline" button="Create pipeline" onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <TextInput label="Pipeline name" description="It starts with the stages New (open) and Solved (closed)" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} />
      </FormCard>
      <Properties />
    </Stack>
  );
}

function PipelineCard({ pipeline }: { pipeline: Pipeline }) {
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['pipelines'] });
  const [stage, setStage] = useState({ name: '', state: 'open' as 'open' | 'closed' });
  const add = useMutation({
    mutationFn: () => call(api.POST('/api/v1/pipelines/{id}/stages', { params: { path: { id: pipeline.id } }, body: { name: stage.name, state: stage.state } })),
    onSuccess: () => { setStage({ name: '', state: 'open' }); refresh(); },
  });
  const update = useMutation({
    mutationFn: (v: { stageId: number; state: 'open' | 'closed' }) =>
      call(api.PATCH('/api/v1/pipelines/{id}/stages/{stageId}', { params: { path: { id: pipeline.id, stageId: v.stageId } }, body: { state: v.state } })),
    onSuccess: refresh,
  });
  // Stage positions are sort keys: moving one renumbers the stages 0, 1, 2… in the new order.
  const moveUp = useMutation({
    mutationFn: async (i: number) => {
      const order = [...pipeline.stages];
      const [moved] = order.splice(i, 1);
      if (moved === undefined || i === 0) return;
      order.splice(i - 1, 0, moved);
      for (const [position, st] of order.entries()) {
        if (st.position !== position) await call(api.PATCH('/api/v1/pipelines/{id}/stages/{stageId}', { params: { path: { id: pipeline.id, stageId: st.id } }, body: { position } }));
      }
    },
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (stageId: number) => call(api.DELETE('/api/v1/pipelines/{id}/stages/{stageId}', { params: { path: { id: pipeline.id, stageId } } })),
    onSuccess: refresh,
  });
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Title order={3} size="h4">{pipeline.name}</Title>
        <Table>
          <Table.Thead><Table.Tr><Table.Th>Stage</Table.Th><Table.Th>Customers see</Table.Th><Table.Th /></Table.Tr></Table.Thead>
          <Table.Tbody>
            {pipeline.stages.map((s, i) => (
              <Table.Tr key={s.id}>
                <Table.Td>{s.name}</Table.Td>
                <Table.Td>
                  <Select aria-label={`What customers see for ${s.name}`} w={140} data={[{ value: 'open', label: 'Open' }, { value: 'closed', label: 'Closed' }]} value={s.state} allowDeselect={false}
                    onChange={(v) => update.mutate({ stageId: s.id, state: v === 'closed' ? 'closed' : 'open' })} />
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" justify="flex-end">
                    <Button size="compact-sm" variant="subtle" disabled={i === 0} onClick={() => moveUp.mutate(i)} loading={moveUp.isPending && moveUp.variables === i}>Move up</Button>
                    <Button size="compact-sm" variant="subtle" color="red" onClick={() => remove.mutate(s.id)}>Remove</Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <ErrorNotice error={update.error ?? moveUp.error ?? remove.error} title="Not changed" />
        <StageNames pipeline={pipeline} onSaved={refresh} />
        <form onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
          <Group align="flex-end">
            <TextInput label={`New stage in ${pipeline.name}`} required value={stage.name} onChange={(e) => setStage({ ...stage, name: e.currentTarget.value })} />
            <Select label="Customers see" w={140} data={[{ value: 'open', label: 'Open' }, { value: 'closed', label: 'Closed' }]} value={stage.state} allowDeselect={false} onChange={(v) => setStage({ ...stage, state: v === 'closed' ? 'closed' : 'open' })} />
            <Button type="submit" variant="default" loading={add.isPending}>Add stage</Button>
          </Group>
          <ErrorNotice error={add.error} title="Not added" />
        </form>
      </Stack>
    </Paper>
  );
}

/**
 * The stages' names in each language, for portals that show custom stages (P33): a box per
 * stage and language, the name as written as its placeholder; only changed stages are saved.
 */
function StageNames({ pipeline, onSaved }: { pipeline: Pipeline; onSaved: () => void }) {
  const initial = (): TextTranslations => {
    const out: TextTranslations = {};
    for (const st of pipeline.stages) for (const [language, t] of Object.entries(st.translations)) out[language] = { ...out[language], [`stage${st.id}`]: t.name ?? '' };
    return out;
  };
  const [open, setOpen] = useState(false);
  const [names, setNames] = useState<TextTranslations>(initial);
  const save = useMutation({
    mutationFn: async () => {
      for (const st of pipeline.stages) {
        const next: Record<string, { name: string }> = {};
        for (const l of ALL_LANGUAGES) {
          const name = translated(names, l, `stage${st.id}`);
          if (name.trim() !== '') next[l] = { name };
        }
        const before: Record<string, { name: string }> = {};
        for (const [l, t] of Object.entries(st.translations)) if ((t.name ?? '').trim() !== '') before[l] = { name: t.name ?? '' };
        if (JSON.stringify(next) === JSON.stringify(before)) continue;
        await call(api.PATCH('/api/v1/pipelines/{id}/stages/{stageId}', { params: { path: { id: pipeline.id, stageId: st.id } }, body: { translations: next } }));
      }
    },
    onSuccess: onSaved,
  });
  if (!open) return <Group><Button variant="default" size="xs" onClick={() => { setNames(initial()); setOpen(true); }}>Stage names in other languages</Button></Group>;
  return (
    <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <Stack gap="xs">
        <Text size="sm">Portals that show custom stages show these names to customers who read the portal in that language.</Text>
        <TranslationFields languages={ALL_LANGUAGES} value={names} onChange={setNames} fields={pipeline.stages.map((st) => ({ key: `stage${st.id}`, label: `“${st.name}”`, primary: st.name }))} />
        <ErrorNotice error={save.error} title="Not saved" />
        {save.isSuccess && <Text size="sm" c="teal.9" role="status">Saved.</Text>}
        <Group><Button type="submit" loading={save.isPending}>Save stage names</Button><Button variant="subtle" onClick={() => setOpen(false)}>Close</Button></Group>
      </Stack>
    </form>
  );
}

const TYPES = [{ value: 'text', label: 'Text' }, { value: 'number', label: 'Number' }, { value: 'boolean', label: 'Yes or no' }, { value: 'date', label: 'Date' }, { value: 'enumeration', label: 'One of a list' }];

function Properties() {
  const queryClient = useQueryClient();
  const properties = useQuery({ queryKey: ['ticket-properties'], queryFn: () => call(api.GET('/api/v1/ticket-properties', { params: { query: { limit: 100 } } })) });
  const [d, setD] = useState({ label: '', key: '', type: 'text', options: '' });
  const create = useMutation({
    mutationFn: () => {
      const options = d.type === 'enumeration' ? d.options.split(',').map((o) => o.trim()).filter((o) => o !== '').map((o) => ({ value: o.toLowerCase().replace(/[^a-z0-9]+/g, '_'), label: o })) : undefined;
      return call(api.POST('/api/v1/ticket-properties', { body: { label: d.label, key: d.key, type: d.type as 'text', ...(options === undefined ? {} : { options }) } }));
    },
    onSuccess: () => { setD({ label: '', key: '', type: 'text', options: '' }); void queryClient.invalidateQueries({ queryKey: ['ticket-properties'] }); },
  });
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Title order={3} size="h4">Custom ticket properties</Title>
        <Loaded query={properties}>
          {(page) => page.items.length === 0 ? <Text size="sm" c="dimmed">None yet.</Text> : (
            <Table>
              <Table.Thead><Table.Tr><Table.Th>Label</Table.Th><Table.Th>Short name</Table.Th><Table.Th>Type</Table.Th></Table.Tr></Table.Thead>
              <Table.Tbody>
                {page.items.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>{p.label}</Table.Td>
                    <Table.Td><code>{p.key}</code></Table.Td>
                    <Table.Td><Badge variant="light">{word(PROPERTY_TYPE_WORDS, p.type)}</Badge>{p.options.length > 0 && <Text size="xs" c="dimmed">{p.options.map((o) => o.label).join(', ')}</Text>}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Loaded>
        <form onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
          <Stack gap="xs">
            <Group grow align="flex-end">
              <TextInput label="Property label" required value={d.label} onChange={(e) => setD({ ...d, label: e.currentTarget.value, key: d.key === '' || d.key === slug(d.label) ? slug(e.currentTarget.value) : d.key })} error={fieldError(create.error, 'label')} />
              <TextInput label="Property key" description="Lower-case letters, digits and underscores; fixed once created" required value={d.key} onChange={(e) => setD({ ...d, key: e.currentTarget.value })} error={fieldError(create.error, 'key')} />
              <Select label="Property type" data={TYPES} value={d.type} allowDeselect={false} onChange={(v) => setD({ ...d, type: v ?? 'text' })} />
            </Group>
            {d.type === 'enumeration' && <TextInput label="Choices (comma separated)" value={d.options} onChange={(e) => setD({ ...d, options: e.currentTarget.value })} error={fieldError(create.error, 'options')} />}
            <ErrorNotice error={create.error} title="Not created" />
            <Group><Button type="submit" variant="default" loading={create.isPending}>Add property</Button></Group>
          </Stack>
        </form>
      </Stack>
    </Paper>
  );
}

function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').replace(/^([^a-z])/, 'p_$1').slice(0, 64);
}

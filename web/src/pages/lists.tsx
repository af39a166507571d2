import { Badge, Button, Group, Paper, Radio, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { AnchorLink } from '../components/anchor-link';
import { api, call } from '../api/client';
import { FilterEditor, type Condition } from '../components/filter-editor';
import { contactName } from '../components/lookups';
import { FormCard } from '../components/form-card';
import { ErrorNotice, fieldError, Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { word, LIST_KIND_WORDS } from '../components/words';

/** Contact lists: static (chosen contacts) and active (everyone meeting the filters). */
export function ListsPage() {
  usePageTitle('Lists');
  const lists = useQuery({ queryKey: ['lists'], queryFn: () => call(api.GET('/api/v1/lists', { params: { query: { limit: 100 } } })) });
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'static' | 'active'>('static');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/lists', { body: { name, kind } })),
    onSuccess: (l) => { void queryClient.invalidateQueries({ queryKey: ['lists'] }); void navigate({ to: '/lists/$listId', params: { listId: String(l.id) } }); },
  });
  return (
    <Stack>
      <Title order={2}>Lists</Title>
      <Loaded query={lists}>
        {(page) => (
          <Table striped>
            <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Kind</Table.Th><Table.Th>Contacts</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {page.items.map((l) => (
                <Table.Tr key={l.id}>
                  <Table.Td><AnchorLink to="/lists/$listId" params={{ listId: String(l.id) }}>{l.name}</AnchorLink></Table.Td>
                  <Table.Td><Badge variant="light">{word(LIST_KIND_WORDS, l.kind)}</Badge></Table.Td>
                  <Table.Td>{l.memberCount}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
      <FormCard title="New list" button="Create list" onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} />
        <Radio.Group label="Kind" value={kind} onChange={(v) => setKind(v === 'active' ? 'active' : 'static')}>
          <Group mt={4}><Radio value="static" label="Static: contacts you add" /><Radio value="active" label="Active: contacts meeting filters" /></Group>
        </Radio.Group>
      </FormCard>
    </Stack>
  );
}

const route = getRouteApi('/lists/$listId');

export function ListPage() {
  const id = Number(route.useParams().listId);
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ['list', id], queryFn: () => call(api.GET('/api/v1/lists/{id}', { params: { path: { id } } })) });
  usePageTitle(list.data?.name ?? 'List');
  const members = useQuery({ queryKey: ['contacts', 'list', id], queryFn: () => call(api.GET('/api/v1/contacts', { params: { query: { listId: id, limit: 100 } } })) });
  const refresh = () => { void queryClient.invalidateQueries({ queryKey: ['list', id] }); void queryClient.invalidateQueries({ queryKey: ['contacts', 'list', id] }); void queryClient.invalidateQueries({ queryKey: ['lists'] }); };
  const [filters, setFilters] = useState<Condition[] | null>(null);
  const saveFilters = useMutation({ mutationFn: (f: Condition[]) => call(api.PATCH('/api/v1/lists/{id}', { params: { path: { id } }, body: { filters: f } })), onSuccess: () => { setFilters(null); refresh(); } });
  const [email, setEmail] = useState('');
  const add = useMutation({
    mutationFn: async () => {
      const found = await call(api.GET('/api/v1/contacts', { params: { query: { email: email.trim(), limit: 1 } } }));
      const contact = found.items.find((c) => c.email.toLowerCase() === email.trim().toLowerCase());
      if (contact === undefined) throw new Error(`No contact has the email ${email.trim()}.`);
      return call(api.POST('/api/v1/lists/{id}/members', { params: { path: { id } }, body: { contactIds: [contact.id] } }));
    },
    onSuccess: () => { setEmail(''); refresh(); },
  });
  const remove = useMutation({ mutationFn: (contactId: number) => call(api.DELETE('/api/v1/lists/{id}/members/{contactId}', { params: { path: { id, contactId } } })), onSuccess: refresh });
  return (
    <Loaded query={list}>
      {(l) => (
        <Stack maw={900}>
          <Group><Title order={2}>{l.name}</Title><Badge variant="light">{word(LIST_KIND_WORDS, l.kind)}</Badge><Text c="dimmed">{l.memberCount} contacts</Text></Group>
          {l.kind === 'active' ? (
            <Paper withBorder p="md">
              <Stack gap="sm">
                <FilterEditor entity="contacts" label="Contacts meeting every condition belong to the list" value={filters ?? (l.filters)} onChange={setFilters} />
                <ErrorNotice error={saveFilters.error} title="Not saved" />
                <Group><Button onClick={() => saveFilters.mutate(filters ?? (l.filters))} disabled={filters === null} loading={saveFilters.isPending}>Save filters</Button></Group>
              </Stack>
            </Paper>
          ) : (
            <Paper withBorder p="md">
              <form onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
                <Group align="flex-end">
                  <TextInput label="Add a contact by email" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} w={320} />
                  <Button type="submit" loading={add.isPending}>Add</Button>
                </Group>
                <ErrorNotice error={add.error ?? remove.error} />
              </form>
            </Paper>
          )}
          <Loaded query={members}>
            {(page) => (
              <Table striped>
                <Table.Thead><Table.Tr><Table.Th>Contact</Table.Th><Table.Th>Email</Table.Th>{l.kind === 'static' && <Table.Th />}</Table.Tr></Table.Thead>
                <Table.Tbody>
                  {page.items.map((c) => (
                    <Table.Tr key={c.id}>
                      <Table.Td><AnchorLink to="/contacts/$contactId" params={{ contactId: String(c.id) }}>{contactName(c)}</AnchorLink></Table.Td>
                      <Table.Td>{c.email}</Table.Td>
                      {l.kind === 'static' && <Table.Td><Button size="xs" variant="subtle" color="red" onClick={() => remove.mutate(c.id)}>Remove</Button></Table.Td>}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Loaded>
        </Stack>
      )}
    </Loaded>
  );
}

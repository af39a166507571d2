import { Badge, Grid, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useState } from 'react';
import { AnchorLink } from '../components/anchor-link';
import { api, call } from '../api/client';
import { contactName, when } from '../components/lookups';
import { Loaded } from '../components/notice';
import { Timeline } from '../components/timeline';
import { usePageTitle } from '../components/page-title';
import { word, STATUS_WORDS } from '../components/words';

export function CompaniesPage() {
  usePageTitle('Companies');
  const [typed, setTyped] = useState('');
  const [name] = useDebouncedValue(typed.trim(), 250);
  const companies = useQuery({
    queryKey: ['companies', name],
    queryFn: () => call(api.GET('/api/v1/companies', { params: { query: { limit: 50, ...(name === '' ? {} : { name }) } } })),
  });
  return (
    <Stack>
      <Title order={2}>Companies</Title>
      <TextInput label="Name starts with" type="search" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} maw={400} />
      <Loaded query={companies}>
        {(page) => (
          <Table striped highlightOnHover>
            <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Domain</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {page.items.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td><AnchorLink to="/companies/$companyId" params={{ companyId: String(c.id) }}>{c.name}</AnchorLink></Table.Td>
                  <Table.Td>{c.domain}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
    </Stack>
  );
}

const route = getRouteApi('/companies/$companyId');

export function CompanyPage() {
  const id = Number(route.useParams().companyId);
  const company = useQuery({ queryKey: ['company', id], queryFn: () => call(api.GET('/api/v1/companies/{id}', { params: { path: { id } } })) });
  usePageTitle(company.data?.name ?? 'Company');
  const people = useQuery({ queryKey: ['contacts', 'company', id], queryFn: () => call(api.GET('/api/v1/contacts', { params: { query: { companyId: id, limit: 50 } } })) });
  return (
    <Loaded query={company}>
      {(c) => (
        <Grid>
          <Grid.Col span={{ base: 12, md: 4 }}>
            <Paper withBorder p="md">
              <Stack gap={6}>
                <Title order={2} size="h3">{c.name}</Title>
                {c.domain !== null && <Text size="sm">{c.domain}</Text>}
                <Text size="sm" fw={600} mt="sm">People</Text>
                <Loaded query={people}>
                  {(page) => <>{page.items.map((p) => <AnchorLink key={p.id} size="sm" to="/contacts/$contactId" params={{ contactId: String(p.id) }}>{contactName(p)}</AnchorLink>)}</>}
                </Loaded>
              </Stack>
            </Paper>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8 }}>
            <Stack>
              <TicketsTable filter={{ companyId: id }} />
              <Timeline target="company" id={id} />
            </Stack>
          </Grid.Col>
        </Grid>
      )}
    </Loaded>
  );
}

/** A contact's or company's tickets, newest activity first. */
export function TicketsTable({ filter }: { filter: { contactId: number } | { companyId: number } }) {
  const tickets = useQuery({ queryKey: ['tickets', filter], queryFn: () => call(api.GET('/api/v1/tickets', { params: { query: { ...filter, limit: 25 } } })) });
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">Tickets</Title>
      <Loaded query={tickets}>
        {(page) => page.items.length === 0 ? <Text size="sm" c="dimmed">No tickets.</Text> : (
          <Table>
            <Table.Thead><Table.Tr><Table.Th>#</Table.Th><Table.Th>Subject</Table.Th><Table.Th>Status</Table.Th><Table.Th>Last activity</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {page.items.map((t) => (
                <Table.Tr key={t.id}>
                  <Table.Td>{t.id}</Table.Td>
                  <Table.Td><AnchorLink to="/tickets/$ticketId" params={{ ticketId: String(t.id) }}>{t.subject}</AnchorLink></Table.Td>
                  <Table.Td><Badge color={t.status === 'open' ? 'green' : 'gray'}>{word(STATUS_WORDS, t.status)}</Badge></Table.Td>
                  <Table.Td>{when(t.lastActivityAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
    </Stack>
  );
}

import { Grid, Group, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useState } from 'react';
import { AnchorLink } from '../components/anchor-link';
import { api, call } from '../api/client';
import { contactName, useCompany, when } from '../components/lookups';
import { Loaded } from '../components/notice';
import { Timeline } from '../components/timeline';
import { TicketsTable } from './companies';
import { usePageTitle } from '../components/page-title';

/** Contacts, searched by the start of their email. */
export function ContactsPage() {
  usePageTitle('Contacts');
  const [typed, setTyped] = useState('');
  const [email] = useDebouncedValue(typed.trim(), 250);
  const contacts = useQuery({
    queryKey: ['contacts', email],
    queryFn: () => call(api.GET('/api/v1/contacts', { params: { query: { limit: 50, ...(email === '' ? {} : { email }) } } })),
  });
  return (
    <Stack>
      <Title order={2}>Contacts</Title>
      <TextInput label="Email starts with" type="search" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} maw={400} />
      <Loaded query={contacts}>
        {(page) => (
          <Table striped highlightOnHover>
            <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Email</Table.Th><Table.Th>Created</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {page.items.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td><AnchorLink to="/contacts/$contactId" params={{ contactId: String(c.id) }}>{contactName(c)}</AnchorLink></Table.Td>
                  <Table.Td>{c.email}</Table.Td>
                  <Table.Td>{when(c.createdAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
    </Stack>
  );
}

const route = getRouteApi('/contacts/$contactId');

/** A contact: details, companies, tickets, and the timeline where portal messages are email engagements (P27). */
export function ContactPage() {
  const id = Number(route.useParams().contactId);
  const contact = useQuery({ queryKey: ['contact', id], queryFn: () => call(api.GET('/api/v1/contacts/{id}', { params: { path: { id } } })) });
  usePageTitle(contact.data === undefined ? 'Contact' : contactName(contact.data));
  return (
    <Loaded query={contact}>
      {(c) => (
        <Grid>
          <Grid.Col span={{ base: 12, md: 4 }}>
            <Paper withBorder p="md">
              <Stack gap={6}>
                <Title order={2} size="h3">{contactName(c)}</Title>
                <Text size="sm">{c.email}</Text>
                {c.phone !== null && <Text size="sm">{c.phone}</Text>}
                <Text size="sm" fw={600} mt="sm">Companies</Text>
                {c.companyIds.length === 0 && <Text size="sm" c="dimmed">None</Text>}
                {c.companyIds.map((cid) => <CompanyName key={cid} id={cid} primary={cid === c.primaryCompanyId} />)}
              </Stack>
            </Paper>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8 }}>
            <Stack>
              <TicketsTable filter={{ contactId: id }} />
              <Timeline target="contact" id={id} />
            </Stack>
          </Grid.Col>
        </Grid>
      )}
    </Loaded>
  );
}

function CompanyName({ id, primary }: { id: number; primary: boolean }) {
  const company = useCompany(id);
  return (
    <Group gap="xs">
      <AnchorLink size="sm" to="/companies/$companyId" params={{ companyId: String(id) }}>{company.data?.name ?? `Company #${id}`}</AnchorLink>
      {primary && <Text size="xs" c="dimmed">primary</Text>}
    </Group>
  );
}

import { Badge, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { AnchorLink } from '../components/anchor-link';
import { guarded } from '../components/guarded';
import { api, call } from '../api/client';
import { FormCard } from '../components/form-card';
import { Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';

/** The customer portals of this help desk, and a new one. */
export const PortalsPage = guarded('portal_settings', 'Customer portal settings', PortalsPageScreen);

function PortalsPageScreen() {
  usePageTitle('Customer portals');
  const portals = useQuery({ queryKey: ['portals'], queryFn: () => call(api.GET('/api/v1/portals')) });
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/portals', { body: { name } })),
    onSuccess: (p) => {
      void queryClient.invalidateQueries({ queryKey: ['portals'] });
      void navigate({ to: '/portals/$portalId', params: { portalId: String(p.id) } });
    },
  });
  return (
    <Stack>
      <Title order={2}>Customer portals</Title>
      <Loaded query={portals}>
        {(page) => (
          <Table striped highlightOnHover>
            <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Domain</Table.Th><Table.Th>State</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {page.items.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td><AnchorLink to="/portals/$portalId" params={{ portalId: String(p.id) }}>{p.name}</AnchorLink></Table.Td>
                  <Table.Td>{p.domain ?? <Text c="dimmed" size="sm">none yet</Text>}</Table.Td>
                  <Table.Td>{p.enabled ? <Badge color="green">Enabled</Badge> : <Badge color="gray">Off</Badge>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Loaded>
      <FormCard title="New portal" button="Create portal" onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
      </FormCard>
    </Stack>
  );
}

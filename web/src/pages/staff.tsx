import { Badge, Button, Checkbox, Group, PasswordInput, Radio, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { guarded } from '../components/guarded';
import { api, call, type StaffUser } from '../api/client';
import { FormCard } from '../components/form-card';
import { ErrorNotice, fieldError, Loaded } from '../components/notice';
import { useMe, type Permission } from '../session';
import { usePageTitle } from '../components/page-title';
import { word, ROLE_WORDS } from '../components/words';

const PERMISSIONS: { value: Permission; label: string }[] = [
  { value: 'portal_settings', label: 'Customer portal settings' },
  { value: 'manage_settings', label: 'Help desk settings (inboxes, forms, knowledge base, mailbox)' },
  { value: 'manage_staff', label: 'Staff and their permissions' },
];

/** Staff users (P3): who is an admin, and which permissions each agent holds. */
export const StaffPage = guarded('manage_staff', 'Managing staff', StaffScreen);

function StaffScreen() {
  usePageTitle('Staff');
  const queryClient = useQueryClient();
  const staff = useQuery({ queryKey: ['staff-users'], queryFn: () => call(api.GET('/api/v1/staff-users', { params: { query: { limit: 100 } } })) });
  const [d, setD] = useState({ name: '', email: '', role: 'agent' as StaffUser['role'], permissions: [] as Permission[], password: '' });
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/staff-users', { body: { name: d.name, email: d.email, role: d.role, permissions: d.permissions, ...(d.password === '' ? {} : { password: d.password }) } })),
    onSuccess: () => { setD({ name: '', email: '', role: 'agent', permissions: [], password: '' }); void queryClient.invalidateQueries({ queryKey: ['staff-users'] }); },
  });
  return (
    <Stack>
      <Title order={2}>Staff</Title>
      <Loaded query={staff}>
        {(page) => (
          <Table>
            <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Role</Table.Th><Table.Th>Permissions (agents)</Table.Th><Table.Th>Active</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>{page.items.map((u) => <StaffRow key={u.id} user={u} />)}</Table.Tbody>
          </Table>
        )}
      </Loaded>
      <FormCard title="New staff user" button="Create staff user" onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <TextInput label="Name" required value={d.name} onChange={(e) => setD({ ...d, name: e.currentTarget.value })} error={fieldError(create.error, 'name')} />
        <TextInput label="Email" type="email" required value={d.email} onChange={(e) => setD({ ...d, email: e.currentTarget.value })} error={fieldError(create.error, 'email')} />
        <Radio.Group label="Role" value={d.role} onChange={(v) => setD({ ...d, role: v === 'admin' ? 'admin' : 'agent' })}>
          <Group mt={4}><Radio value="agent" label="Agent" /><Radio value="admin" label="Admin (every permission)" /></Group>
        </Radio.Group>
        {d.role === 'agent' && (
          <Checkbox.Group label="Permissions" value={d.permissions} onChange={(v) => setD({ ...d, permissions: v })}>
            <Stack gap={4} mt={4}>{PERMISSIONS.map((p) => <Checkbox key={p.value} value={p.value} label={p.label} />)}</Stack>
          </Checkbox.Group>
        )}
        <PasswordInput label="Password" description="At least 12 characters; they can change it later" value={d.password} onChange={(e) => setD({ ...d, password: e.currentTarget.value })} />
      </FormCard>
    </Stack>
  );
}

function StaffRow({ user }: { user: StaffUser }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const update = useMutation({
    mutationFn: (body: { role?: StaffUser['role']; permissions?: Permission[]; disabled?: boolean }) => call(api.PATCH('/api/v1/staff-users/{id}', { params: { path: { id: user.id } }, body })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['staff-users'] }),
  });
  const self = user.id === me.id;
  return (
    <Table.Tr>
      <Table.Td><Text size="sm" fw={500}>{user.name}</Text><Text size="xs" c="dimmed">{user.email}</Text></Table.Td>
      <Table.Td>
        <Group gap="xs">
          <Badge variant="light" color={user.role === 'admin' ? 'grape' : 'blue'}>{word(ROLE_WORDS, user.role)}</Badge>
          {!self && <Button size="compact-xs" variant="subtle" onClick={() => update.mutate({ role: user.role === 'admin' ? 'agent' : 'admin' })}>{user.role === 'admin' ? 'Make agent' : 'Make admin'}</Button>}
        </Group>
      </Table.Td>
      <Table.Td>
        {user.role === 'admin' ? <Text size="sm" c="dimmed">all</Text> : (
          <Stack gap={6}>
            {PERMISSIONS.map((p) => (
              <Checkbox key={p.value} label={p.label} checked={user.permissions.includes(p.value)}
                onChange={(e) => update.mutate({ permissions: e.currentTarget.checked ? [...user.permissions, p.value] : user.permissions.filter((x) => x !== p.value) })} />
            ))}
          </Stack>
        )}
        <ErrorNotice error={update.error} title="Not changed" />
      </Table.Td>
      <Table.Td><Switch aria-label={`${user.name} may sign in`} checked={!user.disabled} disabled={self} onChange={(e) => update.mutate({ disabled: !e.currentTarget.checked })} /></Table.Td>
    </Table.Tr>
  );
}

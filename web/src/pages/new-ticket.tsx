import { Button, Group, Paper, Select, Stack, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api, call } from '../api/client';
import { usePipelines, useStaff } from '../components/lookups';
import { ErrorNotice } from '../components/notice';
import { useMe } from '../session';
import { usePageTitle } from '../components/page-title';

const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

/**
 * A ticket staff open themselves (a phone call, a walk-in): for a contact found by email, in a
 * pipeline, owned by whoever takes it. Its description starts the conversation (the API files it
 * as the customer's first message); without one, the customer's first portal reply lands in the
 * portal's default inbox (P20).
 */
export function NewTicketPage() {
  usePageTitle('New ticket');
  const me = useMe();
  const navigate = useNavigate();
  const pipelines = usePipelines();
  const staff = useStaff();
  const [d, setD] = useState({ subject: '', description: '', email: '', pipelineId: null as string | null, priority: '', ownerId: String(me.id) });
  const pipelineId = d.pipelineId ?? (pipelines.data?.[0] === undefined ? null : String(pipelines.data[0].id));
  const create = useMutation({
    mutationFn: async () => {
      let contactIds: number[] = [];
      if (d.email.trim() !== '') {
        const found = (await call(api.GET('/api/v1/contacts', { params: { query: { email: d.email.trim(), limit: 5 } } }))).items.find((c) => c.email.toLowerCase() === d.email.trim().toLowerCase());
        if (found === undefined) throw new Error(`No contact has the email ${d.email.trim()}.`);
        contactIds = [found.id];
      }
      return call(api.POST('/api/v1/tickets', {
        body: {
          subject: d.subject, pipelineId: Number(pipelineId), source: 'phone', contactIds,
          ...(d.description.trim() === '' ? {} : { description: d.description }),
          ...(d.priority === '' ? {} : { priority: d.priority as (typeof PRIORITIES)[number] }),
          ownerId: d.ownerId === '' ? null : Number(d.ownerId),
        },
      }));
    },
    onSuccess: (t) => void navigate({ to: '/tickets/$ticketId', params: { ticketId: String(t.id) } }),
  });
  return (
    <Paper withBorder p="md" maw={720}>
      <form onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <Stack gap="sm">
          <Title order={2}>New ticket</Title>
          <TextInput label="Subject" required value={d.subject} onChange={(e) => setD({ ...d, subject: e.currentTarget.value })} />
          <TextInput label="Customer’s email" description="An existing contact; the ticket also goes to their primary company" type="email" value={d.email} onChange={(e) => setD({ ...d, email: e.currentTarget.value })} />
          <Textarea label="Description" description="What the customer asks, in their words: it starts the conversation they see on the customer portal" autosize minRows={4} value={d.description} onChange={(e) => setD({ ...d, description: e.currentTarget.value })} />
          <Group grow>
            <Select label="Pipeline" data={(pipelines.data ?? []).map((p) => ({ value: String(p.id), label: p.name }))} value={pipelineId} allowDeselect={false} onChange={(v) => setD({ ...d, pipelineId: v })} />
            <Select label="Priority" data={[{ value: '', label: 'None' }, ...PRIORITIES.map((p) => ({ value: p, label: p }))]} value={d.priority} allowDeselect={false} onChange={(v) => setD({ ...d, priority: v ?? '' })} />
            <Select label="Owner" data={[{ value: '', label: 'No owner' }, ...(staff.data ?? []).map((s) => ({ value: String(s.id), label: s.name }))]} value={d.ownerId} allowDeselect={false} onChange={(v) => setD({ ...d, ownerId: v ?? '' })} />
          </Group>
          <ErrorNotice error={create.error} title="No ticket" />
          <Group><Button type="submit" loading={create.isPending} disabled={pipelineId === null}>Open the ticket</Button></Group>
        </Stack>
      </form>
    </Paper>
  );
}

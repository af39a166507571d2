import { Badge, Button, CloseButton, Group, NumberInput, Paper, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { AnchorLink } from './anchor-link';
import { api, call, type Body, type Ticket } from '../api/client';
import { contactName, useCompany, useContact, usePipelines, useStaff, useTicketProperties } from './lookups';
import { ErrorNotice, Loaded } from './notice';

type TicketPatch = Body<'/api/v1/tickets/{id}', 'patch'>;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

export function useTicket(ticketId: number) {
  return useQuery({ queryKey: ['ticket', ticketId], queryFn: () => call(api.GET('/api/v1/tickets/{id}', { params: { path: { id: ticketId } } })) });
}

/** The ticket's properties, each saved as it changes (stage, priority, owner, category, custom). */
export function TicketPanel({ ticketId, compact = false }: { ticketId: number; compact?: boolean }) {
  const ticket = useTicket(ticketId);
  return <Loaded query={ticket}>{(t) => <TicketProperties ticket={t} compact={compact} />}</Loaded>;
}

function TicketProperties({ ticket: t, compact }: { ticket: Ticket; compact: boolean }) {
  const queryClient = useQueryClient();
  const pipelines = usePipelines();
  const staff = useStaff();
  const properties = useTicketProperties();
  const save = useMutation({
    mutationFn: (body: TicketPatch) => call(api.PATCH('/api/v1/tickets/{id}', { params: { path: { id: t.id } }, body })),
    onSuccess: (updated) => {
      queryClient.setQueryData(['ticket', t.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['timeline', 'ticket', t.id] });
    },
  });
  const pipeline = pipelines.data?.find((p) => p.id === t.pipelineId);
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={compact ? 3 : 2} size="h4">Ticket #{t.id}</Title>
          <Badge color={t.status === 'open' ? 'green' : 'gray'}>{t.status}</Badge>
        </Group>
        {compact && <AnchorLink to="/tickets/$ticketId" params={{ ticketId: String(t.id) }} size="sm">Open the whole ticket</AnchorLink>}
        <Text size="sm" fw={500}>{t.subject}</Text>
        {t.description !== null && t.description.trim() !== '' && (
          <div>
            <Text size="xs" fw={600} c="dimmed">Description</Text>
            <Text size="sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{t.description}</Text>
          </div>
        )}
        <Select label="Pipeline" data={(pipelines.data ?? []).map((p) => ({ value: String(p.id), label: p.name }))} value={String(t.pipelineId)} allowDeselect={false}
          onChange={(v) => { const p = pipelines.data?.find((x) => String(x.id) === v); if (p?.stages[0] !== undefined) save.mutate({ pipelineId: p.id, stageId: p.stages[0].id }); }} />
        <Select label="Stage" data={(pipeline?.stages ?? []).map((s) => ({ value: String(s.id), label: `${s.name}${s.state === 'closed' ? ' (closed)' : ''}` }))} value={String(t.stageId)} allowDeselect={false}
          onChange={(v) => v !== null && save.mutate({ stageId: Number(v) })} />
        <Select label="Priority" data={[{ value: '', label: 'None' }, ...PRIORITIES.map((p) => ({ value: p, label: p }))]} value={t.priority ?? ''} allowDeselect={false}
          onChange={(v) => save.mutate({ priority: v === '' || v === null ? null : (v) })} />
        <Select label="Owner" data={[{ value: '', label: 'No owner' }, ...(staff.data ?? []).map((s) => ({ value: String(s.id), label: s.name }))]} value={t.ownerId === null ? '' : String(t.ownerId)} allowDeselect={false}
          onChange={(v) => save.mutate({ ownerId: v === '' || v === null ? null : Number(v) })} />
        <SavedText label="Category" value={t.category ?? ''} onSave={(v) => save.mutate({ category: v === '' ? null : v })} />
        {(properties.data ?? []).map((p) => {
          const value = t.properties[p.key] ?? null;
          const set = (v: string | number | boolean | null) => save.mutate({ properties: { ...t.properties, [p.key]: v } });
          if (p.type === 'enumeration') return <Select key={p.key} label={p.label} data={[{ value: '', label: '—' }, ...p.options.map((o) => ({ value: o.value, label: o.label }))]} value={typeof value === 'string' ? value : ''} allowDeselect={false} onChange={(v) => set(v === '' ? null : v)} />;
          if (p.type === 'boolean') return <Switch key={p.key} label={p.label} checked={value === true} onChange={(e) => set(e.currentTarget.checked)} />;
          if (p.type === 'number') return <NumberInput key={p.key} label={p.label} value={typeof value === 'number' ? value : ''} onBlur={(e) => set(e.currentTarget.value === '' ? null : Number(e.currentTarget.value))} />;
          return <SavedText key={p.key} label={p.label} value={typeof value === 'string' ? value : ''} onSave={(v) => set(v === '' ? null : v)} type={p.type === 'date' ? 'date' : 'text'} />;
        })}
        {save.error !== null && <ErrorNotice error={save.error} title="Not saved" />}
        <Associations ticket={t} />
      </Stack>
    </Paper>
  );
}

/** A text field saved when it loses focus or on Enter, if it changed. */
function SavedText({ label, value, onSave, type = 'text' }: { label: string; value: string; onSave: (v: string) => void; type?: string }) {
  const [text, setText] = useState(value);
  const [seen, setSeen] = useState(value);
  if (seen !== value) { setSeen(value); setText(value); }
  const commit = () => { if (text.trim() !== value) onSave(text.trim()); };
  return <TextInput label={label} type={type} value={text} onChange={(e) => setText(e.currentTarget.value)} onBlur={commit} onKeyDown={(e) => { if (e.key === 'Enter') commit(); }} />;
}

/** The ticket's contacts and companies: shown, added (by email or by name), removed. */
function Associations({ ticket }: { ticket: Ticket }) {
  const queryClient = useQueryClient();
  const refresh = () => { void queryClient.invalidateQueries({ queryKey: ['ticket', ticket.id] }); void queryClient.invalidateQueries({ queryKey: ['timeline', 'ticket', ticket.id] }); };
  const path = { params: { path: { id: ticket.id } } };
  const addContact = useMutation({
    mutationFn: async (email: string) => {
      const found = (await call(api.GET('/api/v1/contacts', { params: { query: { email, limit: 5 } } }))).items.find((c) => c.email.toLowerCase() === email.toLowerCase());
      if (found === undefined) throw new Error(`No contact has the email ${email}.`);
      return call(api.POST('/api/v1/tickets/{id}/contacts', { ...path, body: { contactId: found.id } }));
    },
    onSuccess: refresh,
  });
  const addCompany = useMutation({
    mutationFn: async (name: string) => {
      const found = (await call(api.GET('/api/v1/companies', { params: { query: { name, limit: 5 } } }))).items[0];
      if (found === undefined) throw new Error(`No company's name starts with ${name}.`);
      return call(api.POST('/api/v1/tickets/{id}/companies', { ...path, body: { companyId: found.id } }));
    },
    onSuccess: refresh,
  });
  const removeContact = useMutation({ mutationFn: (contactId: number) => call(api.DELETE('/api/v1/tickets/{id}/contacts/{contactId}', { params: { path: { id: ticket.id, contactId } } })), onSuccess: refresh });
  const removeCompany = useMutation({ mutationFn: (companyId: number) => call(api.DELETE('/api/v1/tickets/{id}/companies/{companyId}', { params: { path: { id: ticket.id, companyId } } })), onSuccess: refresh });
  return (
    <Stack gap={4}>
      <Text size="sm" fw={600}>Contacts</Text>
      {ticket.contactIds.length === 0 && <Text size="sm" c="dimmed">None</Text>}
      {ticket.contactIds.map((id) => <ContactLink key={id} id={id} onRemove={() => removeContact.mutate(id)} />)}
      <AddBy label="Add a contact by email" type="email" onAdd={(v) => addContact.mutate(v)} pending={addContact.isPending} />
      <Text size="sm" fw={600} mt="xs">Companies</Text>
      {ticket.companyIds.length === 0 && <Text size="sm" c="dimmed">None</Text>}
      {ticket.companyIds.map((id) => <CompanyLink key={id} id={id} onRemove={() => removeCompany.mutate(id)} />)}
      <AddBy label="Add a company by name" type="text" onAdd={(v) => addCompany.mutate(v)} pending={addCompany.isPending} />
      <ErrorNotice error={addContact.error ?? addCompany.error ?? removeContact.error ?? removeCompany.error} title="Not changed" />
    </Stack>
  );
}

function AddBy({ label, type, onAdd, pending }: { label: string; type: string; onAdd: (value: string) => void; pending: boolean }) {
  const [value, setValue] = useState('');
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (value.trim() !== '') { onAdd(value.trim()); setValue(''); } }}>
      <Group gap="xs" align="flex-end" wrap="nowrap">
        <TextInput size="xs" label={label} type={type} value={value} onChange={(e) => setValue(e.currentTarget.value)} style={{ flex: 1 }} />
        <Button size="xs" variant="default" type="submit" loading={pending}>Add</Button>
      </Group>
    </form>
  );
}

function ContactLink({ id, onRemove }: { id: number; onRemove: () => void }) {
  const c = useContact(id);
  const name = c.data === undefined ? `Contact #${id}` : `${contactName(c.data)} · ${c.data.email}`;
  return (
    <Group gap={4} wrap="nowrap">
      <AnchorLink size="sm" to="/contacts/$contactId" params={{ contactId: String(id) }}>{name}</AnchorLink>
      <CloseButton size="sm" aria-label={`Remove ${name} from the ticket`} onClick={onRemove} />
    </Group>
  );
}

function CompanyLink({ id, onRemove }: { id: number; onRemove: () => void }) {
  const c = useCompany(id);
  const name = c.data?.name ?? `Company #${id}`;
  return (
    <Group gap={4} wrap="nowrap">
      <AnchorLink size="sm" to="/companies/$companyId" params={{ companyId: String(id) }}>{name}</AnchorLink>
      <CloseButton size="sm" aria-label={`Remove ${name} from the ticket`} onClick={onRemove} />
    </Group>
  );
}

import { Button, CloseButton, Collapse, Group, Select, SimpleGrid, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import { PRIORITIES, type TicketsSearch } from '../pages/tickets-search';
import { contactName, useCompany, useContact, usePipelines, useStaff, useTicketProperties } from './lookups';
import { ErrorNotice } from './notice';

/** Every filter of the Tickets screen; each change goes to the address at once (words after a pause). */
export function TicketFilters({ search, onChange }: { search: TicketsSearch; onChange: (next: TicketsSearch) => void }) {
  const pipelines = usePipelines();
  const staff = useStaff();
  const properties = useTicketProperties();
  const [typed, setTyped] = useState(search.q ?? '');
  const [q] = useDebouncedValue(typed.trim(), 300);
  useEffect(() => {
    if ((search.q ?? '') !== q) onChange({ ...search, q: q === '' ? undefined : q });
    // Only the typed words start a change: a view picked meanwhile must not be undone.
  }, [q]);
  const [seenQ, setSeenQ] = useState(search.q);
  if (seenQ !== search.q) { setSeenQ(search.q); setTyped(search.q ?? ''); }
  const more = [search.contactId, search.companyId, search.createdFrom, search.createdTo, search.activityFrom, search.activityTo, search.prop].some((v) => v !== undefined);
  const [open, setOpen] = useState(more);
  const set = (patch: Partial<TicketsSearch>) => onChange({ ...search, ...patch });
  const pipeline = pipelines.data?.find((p) => p.id === search.pipelineId);
  const property = properties.data?.find((p) => p.key === search.prop);

  return (
    <div>
      <SimpleGrid cols={{ base: 2, md: 3, xl: 6 }} spacing="xs" verticalSpacing="xs">
        <TextInput size="xs" label="Search" placeholder="Subject or conversation" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} type="search" />
        <Select size="xs" label="Status" data={[{ value: '', label: 'Open and closed' }, { value: 'open', label: 'Open' }, { value: 'closed', label: 'Closed' }]} value={search.status ?? ''} allowDeselect={false}
          onChange={(v) => set({ status: v === 'open' || v === 'closed' ? v : undefined })} />
        <Select size="xs" label="Pipeline" data={[{ value: '', label: 'Any pipeline' }, ...(pipelines.data ?? []).map((p) => ({ value: String(p.id), label: p.name }))]} value={search.pipelineId === undefined ? '' : String(search.pipelineId)} allowDeselect={false}
          onChange={(v) => set({ pipelineId: v === '' || v === null ? undefined : Number(v), stageId: undefined })} />
        <Select size="xs" label="Stage" disabled={pipeline === undefined} placeholder={pipeline === undefined ? 'Pick a pipeline first' : undefined}
          data={[{ value: '', label: 'Any stage' }, ...(pipeline?.stages ?? []).map((s) => ({ value: String(s.id), label: s.name }))]} value={search.stageId === undefined ? (pipeline === undefined ? null : '') : String(search.stageId)} allowDeselect={false}
          onChange={(v) => set({ stageId: v === '' || v === null ? undefined : Number(v) })} />
        <Select size="xs" label="Priority" data={[{ value: '', label: 'Any priority' }, ...PRIORITIES.map((p) => ({ value: p, label: p.charAt(0).toUpperCase() + p.slice(1) }))]} value={search.priority ?? ''} allowDeselect={false}
          onChange={(v) => set({ priority: PRIORITIES.find((p) => p === v) })} />
        <Select size="xs" label="Owner" searchable data={[{ value: '', label: 'Anyone' }, { value: 'me', label: 'Me' }, { value: 'none', label: 'No owner' }, ...(staff.data ?? []).map((s) => ({ value: String(s.id), label: s.name }))]}
          value={search.owner ?? ''} allowDeselect={false} onChange={(v) => set({ owner: v === '' || v === null ? undefined : v })} />
      </SimpleGrid>
      <Button size="compact-xs" variant="subtle" mt={4} onClick={() => setOpen((o) => !o)} aria-expanded={open}>{open ? 'Fewer filters' : 'More filters'}</Button>
      <Collapse expanded={open}>
        <SimpleGrid cols={{ base: 2, md: 3, xl: 6 }} spacing="xs" verticalSpacing="xs">
          <ContactFilter id={search.contactId} onChange={(contactId) => set({ contactId })} />
          <CompanyFilter id={search.companyId} onChange={(companyId) => set({ companyId })} />
          <TextInput size="xs" type="date" label="Created from" value={search.createdFrom ?? ''} onChange={(e) => set({ createdFrom: e.currentTarget.value === '' ? undefined : e.currentTarget.value })} />
          <TextInput size="xs" type="date" label="Created until" value={search.createdTo ?? ''} onChange={(e) => set({ createdTo: e.currentTarget.value === '' ? undefined : e.currentTarget.value })} />
          <TextInput size="xs" type="date" label="Last activity from" value={search.activityFrom ?? ''} onChange={(e) => set({ activityFrom: e.currentTarget.value === '' ? undefined : e.currentTarget.value })} />
          <TextInput size="xs" type="date" label="Last activity until" value={search.activityTo ?? ''} onChange={(e) => set({ activityTo: e.currentTarget.value === '' ? undefined : e.currentTarget.value })} />
          <Select size="xs" label="Custom property" data={[{ value: '', label: 'None' }, ...(properties.data ?? []).map((p) => ({ value: p.key, label: p.label }))]} value={search.prop ?? ''} allowDeselect={false}
            onChange={(v) => set({ prop: v === '' || v === null ? undefined : v, propValue: undefined })} />
          {property !== undefined && (property.type === 'enumeration' || property.type === 'boolean'
            ? <Select size="xs" label={`${property.label} is`} data={property.type === 'boolean' ? [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }] : property.options.map((o) => ({ value: o.value, label: o.label }))}
                value={search.propValue ?? null} onChange={(v) => set({ propValue: v ?? undefined })} />
            : <TextInput size="xs" label={`${property.label} is`} type={property.type === 'number' ? 'number' : property.type === 'date' ? 'date' : 'text'} value={search.propValue ?? ''}
                onChange={(e) => set({ propValue: e.currentTarget.value === '' ? undefined : e.currentTarget.value })} />)}
        </SimpleGrid>
      </Collapse>
    </div>
  );
}

/** A filter on one record found by what staff type (an email, a company's name), shown by name once chosen. */
function LookupFilter({ label, placeholder, chosen, find, onChange }: { label: string; placeholder: string; chosen: string | null; find: (text: string) => Promise<number>; onChange: (id: number | undefined) => void }) {
  const [text, setText] = useState('');
  const lookup = useMutation({ mutationFn: find, onSuccess: (id) => { setText(''); onChange(id); } });
  if (chosen !== null) {
    return (
      <div>
        <Text size="xs" fw={500}>{label}</Text>
        <Group gap={4} wrap="nowrap" mih={30}><Text size="sm" truncate>{chosen}</Text><CloseButton size="sm" aria-label={`Remove the ${label.toLowerCase()} filter`} onClick={() => onChange(undefined)} /></Group>
      </div>
    );
  }
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (text.trim() !== '') lookup.mutate(text.trim()); }}>
      <TextInput size="xs" label={label} placeholder={placeholder} value={text} onChange={(e) => setText(e.currentTarget.value)} description="Press Enter to apply" />
      <ErrorNotice error={lookup.error} title="Not found" />
    </form>
  );
}

function ContactFilter({ id, onChange }: { id: number | undefined; onChange: (id: number | undefined) => void }) {
  const contact = useContact(id);
  const chosen = id === undefined ? null : contact.data === undefined ? 'Loading…' : contactName(contact.data);
  return (
    <LookupFilter label="Contact" placeholder="Email" chosen={chosen} onChange={onChange} find={async (email) => {
      const found = (await call(api.GET('/api/v1/contacts', { params: { query: { email, limit: 5 } } }))).items[0];
      if (found === undefined) throw new Error(`No contact's email starts with ${email}.`);
      return found.id;
    }} />
  );
}

function CompanyFilter({ id, onChange }: { id: number | undefined; onChange: (id: number | undefined) => void }) {
  const company = useCompany(id);
  const chosen = id === undefined ? null : (company.data?.name ?? 'Loading…');
  return (
    <LookupFilter label="Company" placeholder="Name" chosen={chosen} onChange={onChange} find={async (name) => {
      const found = (await call(api.GET('/api/v1/companies', { params: { query: { name, limit: 5 } } }))).items[0];
      if (found === undefined) throw new Error(`No company's name starts with ${name}.`);
      return found.id;
    }} />
  );
}

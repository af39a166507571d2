import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';

/** Staff users by id, for names of owners and assignees (the first hundred: a help desk's team). */
export function useStaff() {
  return useQuery({
    queryKey: ['staff-users'],
    queryFn: () => call(api.GET('/api/v1/staff-users', { params: { query: { limit: 100 } } })),
    select: (page) => page.items,
    staleTime: 60_000,
  });
}

export function usePipelines() {
  return useQuery({ queryKey: ['pipelines'], queryFn: () => call(api.GET('/api/v1/pipelines')), select: (p) => p.items, staleTime: 60_000 });
}

export function useInboxes() {
  return useQuery({ queryKey: ['inboxes'], queryFn: () => call(api.GET('/api/v1/inboxes')), select: (p) => p.items, staleTime: 60_000 });
}

export function useTicketProperties() {
  return useQuery({ queryKey: ['ticket-properties'], queryFn: () => call(api.GET('/api/v1/ticket-properties', { params: { query: { limit: 100 } } })), select: (p) => p.items, staleTime: 60_000 });
}

export function useLists() {
  return useQuery({ queryKey: ['lists'], queryFn: () => call(api.GET('/api/v1/lists', { params: { query: { limit: 100 } } })), select: (p) => p.items });
}

export function useContact(id: number | null | undefined) {
  return useQuery({
    queryKey: ['contact', id],
    queryFn: () => call(api.GET('/api/v1/contacts/{id}', { params: { path: { id: id ?? 0 } } })),
    enabled: id !== null && id !== undefined,
  });
}

export function useCompany(id: number | null | undefined) {
  return useQuery({
    queryKey: ['company', id],
    queryFn: () => call(api.GET('/api/v1/companies/{id}', { params: { path: { id: id ?? 0 } } })),
    enabled: id !== null && id !== undefined,
  });
}

/** A person's name for display: "First Last", else the email. */
export function contactName(c: { firstName?: string | null; lastName?: string | null; email: string }): string {
  const name = [c.firstName, c.lastName].filter((p) => p !== null && p !== undefined && p !== '').join(' ');
  return name === '' ? c.email : name;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(iso: string | null | undefined): string {
  return iso === null || iso === undefined ? '' : dateFormat.format(new Date(iso));
}

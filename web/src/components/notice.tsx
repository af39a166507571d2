import { Alert, Center, Loader, Text } from '@mantine/core';
import { ApiError } from '../api/client';

/** The API's message for one field of a request that failed, to show at that field (`error=`). */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(field) : undefined;
}

/**
 * What went wrong, in the API's words: its sentence (which names the fields), and when several
 * fields are wrong, each by its name with what to do.
 */
export function ErrorNotice({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (error === null || error === undefined) return null;
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'Unknown error';
  const fields = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  return (
    <Alert color="red" title={title} role="alert">
      <Text size="sm">{message}</Text>
      {fields.length > 1 && (
        <ul style={{ margin: '0.25rem 0 0', paddingLeft: '1.2rem' }}>
          {fields.map((f) => <li key={f.path + f.message}><Text size="sm">{f.label ?? 'A field'}: {f.message}</Text></li>)}
        </ul>
      )}
    </Alert>
  );
}

export function Loading() {
  return <Center p="xl"><Loader aria-label="Loading" /></Center>;
}

/** Renders a query's states: loading, error, or the children with the data. */
export function Loaded<T>({ query, children }: { query: { isPending: boolean; error: unknown; data: T | undefined }; children: (data: T) => React.ReactNode }) {
  if (query.error !== null && query.error !== undefined) return <ErrorNotice error={query.error} />;
  if (query.isPending || query.data === undefined) return <Loading />;
  return <>{children(query.data)}</>;
}

/** A screen some staff may not use: they are told so, and nothing is asked of the API. */
export function NotAllowed({ what }: { what: string }) {
  return (
    <Alert color="gray" title="Not available to you" role="alert">
      <Text size="sm">{what} needs a permission your account does not have. An administrator can grant it.</Text>
    </Alert>
  );
}

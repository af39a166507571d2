import { Button, Group, Paper, Stack, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { ErrorNotice } from './notice';

/** A small form in a card that makes something: its fields, one button, what the API said. */
export function FormCard({ title, button, onSubmit, pending, error, children }: { title: string; button: string; onSubmit: () => void; pending: boolean; error: unknown; children: ReactNode }) {
  return (
    <Paper withBorder p="md" maw={480}>
      <form onSubmit={(e) => { e.preventDefault(); onSubmit(); }}>
        <Stack gap="xs">
          <Title order={3} size="h4">{title}</Title>
          {children}
          <ErrorNotice error={error} title="Not created" />
          <Group><Button type="submit" loading={pending}>{button}</Button></Group>
        </Stack>
      </form>
    </Paper>
  );
}

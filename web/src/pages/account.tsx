import { Button, Group, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call, setCsrfToken } from '../api/client';
import { ErrorNotice } from '../components/notice';
import { sessionKey, useMe } from '../session';
import { usePageTitle } from '../components/page-title';

/** The signed-in staff user's own account: their password (every other session of theirs ends). */
export function AccountPage() {
  usePageTitle('Your account');
  const me = useMe();
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const change = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/password', { body: { currentPassword: current, newPassword: next } })),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      queryClient.setQueryData(sessionKey, session);
      setCurrent('');
      setNext('');
    },
  });
  const fieldError = (field: string) => (change.error instanceof ApiError ? change.error.fieldError(field) : undefined);
  return (
    <Paper withBorder p="md" maw={520}>
      <form onSubmit={(e) => { e.preventDefault(); change.mutate(); }}>
        <Stack gap="sm">
          <Title order={2}>Your account</Title>
          <Text size="sm">{me.name} · {me.email} · {me.role}</Text>
          <Title order={3} size="h4">Change your password</Title>
          <PasswordInput label="Current password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.currentTarget.value)} error={fieldError('currentPassword')} />
          <PasswordInput label="New password" description="At least 12 characters; not one found in breaches. Your other sessions end." autoComplete="new-password" required value={next} onChange={(e) => setNext(e.currentTarget.value)} error={fieldError('newPassword')} />
          <ErrorNotice error={change.error} title="Not changed" />
          {change.isSuccess && <Text size="sm" c="teal.9" role="status">Your password is changed; every other session of yours has ended.</Text>}
          <Group><Button type="submit" loading={change.isPending}>Change password</Button></Group>
        </Stack>
      </form>
    </Paper>
  );
}

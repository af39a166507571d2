import { Anchor, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, call, setCsrfToken } from '../api/client';
import { ErrorNotice } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { sessionKey } from '../session';

export function SignInPage() {
  const queryClient = useQueryClient();
  usePageTitle('Sign in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/sign-in', { body: { email, password } })),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      queryClient.setQueryData(sessionKey, session);
    },
  });
  return (
    <Center mih="100vh" bg="gray.0">
      <Paper component="main" withBorder shadow="sm" p="xl" w={380}>
        <form onSubmit={(e) => { e.preventDefault(); signIn.mutate(); }}>
          <Stack>
            <Title order={1} size="h2">Sign in to Portico</Title>
            <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} data-autofocus />
            <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
            {signIn.error !== null && <ErrorNotice error={signIn.error} title="Could not sign in" />}
            <Button type="submit" loading={signIn.isPending}>Sign in</Button>
            <Anchor component={Link} to="/forgot-password" size="sm">Forgot your password?</Anchor>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

import { Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorNotice } from '../components/notice';
import { usePageTitle } from '../components/page-title';

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  usePageTitle(title);
  return (
    <Center mih="100vh" bg="gray.0">
      <Paper component="main" withBorder shadow="sm" p="xl" w={400} maw="calc(100vw - 32px)">
        <Stack>
          <Title order={1} size="h2">{title}</Title>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}

/** "Forgot your password?": asks for the address and says what happens next, the same for any address. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const ask = useMutation({ mutationFn: () => call(api.POST('/api/v1/auth/password-reset', { body: { email } })) });
  return (
    <Card title="Forgot your password?">
      {ask.isSuccess ? (
        <Text role="status">{ask.data.message}</Text>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); ask.mutate(); }}>
          <Stack>
            <Text size="sm">Enter the email address you sign in with. We will mail you a link to set a new password.</Text>
            <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} data-autofocus />
            {ask.error !== null && <ErrorNotice error={ask.error} title="Could not send the link" />}
            <Button type="submit" loading={ask.isPending}>Send me a link</Button>
          </Stack>
        </form>
      )}
      <Anchor component={Link} to="/" size="sm">Back to sign-in</Anchor>
    </Card>
  );
}

/** The emailed link's page: the token comes in the address's fragment, so it never reaches a server log. */
export function ResetPasswordPage() {
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '');
  const [password, setPassword] = useState('');
  const reset = useMutation({ mutationFn: () => call(api.POST('/api/v1/auth/password-reset/confirm', { body: { token, password } })) });
  const fieldError = reset.error instanceof ApiError ? reset.error.fieldError('password') : undefined;
  return (
    <Card title="Set a new password">
      {reset.isSuccess ? (
        <Text role="status">Your new password is set, and every session of yours has ended. Sign in with it now.</Text>
      ) : token === '' ? (
        <Text>This page needs the link from the email. Open the link again, or ask for a new one.</Text>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); reset.mutate(); }}>
          <Stack>
            <PasswordInput label="New password" description="At least 12 characters." autoComplete="new-password" required value={password} error={fieldError} onChange={(e) => setPassword(e.currentTarget.value)} data-autofocus />
            {reset.error !== null && fieldError === undefined && <ErrorNotice error={reset.error} title="Could not set the password" />}
            <Button type="submit" loading={reset.isPending}>Set the password</Button>
          </Stack>
        </form>
      )}
      {reset.isSuccess
        ? <Button component={Link} to="/">Sign in</Button>
        : <Anchor component={Link} to="/forgot-password" size="sm">Ask for a new link</Anchor>}
    </Card>
  );
}

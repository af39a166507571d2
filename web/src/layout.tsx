import { AppShell, Burger, Button, Center, Group, Loader, NavLink, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useRouterState } from '@tanstack/react-router';
import { api, call, setCsrfToken } from './api/client';
import { ErrorNotice } from './components/notice';
import { word, ROLE_WORDS } from './components/words';
import { SignInPage } from './pages/sign-in';
import { can, sessionKey, useSession } from './session';

const NAV = [
  { to: '/inbox', label: 'Inbox', needs: null },
  { to: '/tickets', label: 'Tickets', needs: null },
  { to: '/contacts', label: 'Contacts', needs: null },
  { to: '/companies', label: 'Companies', needs: null },
  { to: '/lists', label: 'Lists', needs: null },
  { to: '/portals', label: 'Customer portal', needs: 'portal_settings' },
  { to: '/inboxes', label: 'Inboxes', needs: 'manage_settings' },
  { to: '/ticket-settings', label: 'Pipelines and properties', needs: 'manage_settings' },
  { to: '/forms', label: 'Support forms', needs: 'manage_settings' },
  { to: '/kb', label: 'Knowledge base', needs: 'manage_settings' },
  { to: '/mailbox', label: 'Development mailbox', needs: 'manage_settings' },
  { to: '/staff', label: 'Staff', needs: 'manage_staff' },
] as const;

const PUBLIC_PATHS = ['/forgot-password', '/reset-password'];

/** Signed in: the shell with the navigation; otherwise the sign-in screen. */
export function Layout() {
  const session = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const path = useRouterState({ select: (s) => s.location.pathname });
  const queryClient = useQueryClient();
  const signOut = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/sign-out')),
    onSettled: () => {
      setCsrfToken(null);
      queryClient.clear();
      queryClient.setQueryData(sessionKey, null);
    },
  });

  if (session.isPending) return <Center h="100vh"><Loader aria-label="Loading" /></Center>;
  if (session.isError) return <Center h="100vh"><ErrorNotice error={session.error} /></Center>;
  // The screens for a forgotten password are open to anyone; signed in, they are the account's.
  if (PUBLIC_PATHS.includes(path) && session.data === null) return <Outlet />;
  if (session.data === null) return <SignInPage />;
  const user = session.data.user;

  return (
    <>
    <a className="skip-link" href="#main">Skip to the main content</a>
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Title order={1} size="h3">Portico</Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Button component={Link} to="/account" variant="subtle" size="xs" visibleFrom="sm">{user.name} · {word(ROLE_WORDS, user.role)}</Button>
            <Button variant="default" size="xs" onClick={() => signOut.mutate()} loading={signOut.isPending}>Sign out</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {NAV.filter((item) => item.needs === null || can(user, item.needs)).map((item) => (
          <NavLink key={item.to} label={item.label} active={path === item.to || path.startsWith(`${item.to}/`)} onClick={close} renderRoot={(props) => <Link to={item.to} {...props} />} />
        ))}
        <NavLink hiddenFrom="sm" label={`Your account (${user.name})`} active={path === '/account'} onClick={close} renderRoot={(props) => <Link to="/account" {...props} />} />
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
    </>
  );
}

import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, lazyRouteComponent, redirect } from '@tanstack/react-router';
import { Layout } from './layout';
import { InboxPage, type InboxSearch } from './pages/inbox';
import { validateTicketsSearch } from './pages/tickets-search';

interface RouterContext {
  queryClient: QueryClient;
}

const rootRoute = createRootRouteWithContext<RouterContext>()({ component: Layout });

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  beforeLoad: () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- TanStack Router's redirect is thrown
    throw redirect({ to: '/inbox', search: {} });
  },
});

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
function id(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

const inboxRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/inbox',
  validateSearch: (search: Record<string, unknown>): InboxSearch => ({
    inboxId: id(search.inboxId),
    status: search.status === 'closed' || search.status === 'all' ? search.status : undefined,
    view: search.view === 'mine' || search.view === 'all' || search.view === 'unassigned' ? search.view : undefined,
    q: text(search.q),
    thread: id(search.thread),
  }),
  component: InboxPage,
});

const ticketsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tickets',
  validateSearch: validateTicketsSearch,
  component: lazyRouteComponent(() => import('./pages/tickets'), 'TicketsPage'),
});

const newTicketRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tickets/new',
  component: lazyRouteComponent(() => import('./pages/new-ticket'), 'NewTicketPage'),
});

const ticketRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tickets/$ticketId',
  component: lazyRouteComponent(() => import('./pages/ticket'), 'TicketPage'),
});

const contactsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/contacts',
  validateSearch: (search: Record<string, unknown>): { email?: string } => ({ email: text(search.email) }),
  component: lazyRouteComponent(() => import('./pages/contacts'), 'ContactsPage'),
});
const contactRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/contacts/$contactId',
  component: lazyRouteComponent(() => import('./pages/contacts'), 'ContactPage'),
});
const companiesRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/companies',
  validateSearch: (search: Record<string, unknown>): { name?: string } => ({ name: text(search.name) }),
  component: lazyRouteComponent(() => import('./pages/companies'), 'CompaniesPage'),
});
const companyRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/companies/$companyId',
  component: lazyRouteComponent(() => import('./pages/companies'), 'CompanyPage'),
});
const listsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/lists',
  component: lazyRouteComponent(() => import('./pages/lists'), 'ListsPage'),
});
const listRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/lists/$listId',
  component: lazyRouteComponent(() => import('./pages/lists'), 'ListPage'),
});
const portalsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/portals',
  component: lazyRouteComponent(() => import('./pages/portals'), 'PortalsPage'),
});
const portalRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/portals/$portalId',
  validateSearch: (search: Record<string, unknown>): { tab?: string } => ({ tab: text(search.tab) }),
  component: lazyRouteComponent(() => import('./pages/portal-settings'), 'PortalSettingsPage'),
});
const mailboxRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/mailbox',
  validateSearch: (search: Record<string, unknown>): { mail?: number } => ({ mail: id(search.mail) }),
  component: lazyRouteComponent(() => import('./pages/mailbox'), 'MailboxPage'),
});

const kbRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/kb',
  validateSearch: (search: Record<string, unknown>): { article?: string } => ({ article: search.article === 'new' ? 'new' : id(search.article)?.toString() }),
  component: lazyRouteComponent(() => import('./pages/kb'), 'KnowledgeBasePage'),
});
const formsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/forms',
  validateSearch: (search: Record<string, unknown>): { form?: string } => ({ form: search.form === 'new' ? 'new' : id(search.form)?.toString() }),
  component: lazyRouteComponent(() => import('./pages/forms'), 'FormsPage'),
});

const staffRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/staff',
  component: lazyRouteComponent(() => import('./pages/staff'), 'StaffPage'),
});

const inboxesRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/inboxes',
  component: lazyRouteComponent(() => import('./pages/inboxes'), 'InboxesPage'),
});

const ticketSettingsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/ticket-settings',
  component: lazyRouteComponent(() => import('./pages/ticket-settings'), 'TicketSettingsPage'),
});

const accountRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/account',
  component: lazyRouteComponent(() => import('./pages/account'), 'AccountPage'),
});

const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/forgot-password',
  component: lazyRouteComponent(() => import('./pages/password-reset'), 'ForgotPasswordPage'),
});
const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
  component: lazyRouteComponent(() => import('./pages/password-reset'), 'ResetPasswordPage'),
});

const routeTree = rootRoute.addChildren([
  forgotPasswordRoute, resetPasswordRoute,
  indexRoute, inboxRoute, ticketsRoute, newTicketRoute, ticketRoute, contactsRoute, contactRoute, companiesRoute, companyRoute, listsRoute, listRoute, portalsRoute, portalRoute, mailboxRoute, kbRoute, formsRoute, staffRoute, inboxesRoute, ticketSettingsRoute, accountRoute,
]);

export function createAppRouter(queryClient: QueryClient) {
  return createRouter({ routeTree, basepath: '/app', context: { queryClient }, defaultPreload: 'intent', scrollRestoration: true });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}

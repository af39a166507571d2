import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { staffCookieName, staffCookieOptions, staffOf } from '../../http/auth.js';
import { problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import { perClient, perTarget, perUser } from '../../http/limits.js';
import { LIMITS } from '../../security/limits.js';
import type { StaffAuthService } from './auth.service.js';
import { presentStaff } from './staff.presenter.js';
import { PasswordChange, PasswordReset, PasswordResetRequest, SessionInfo, SignIn } from './staff.schemas.js';

export interface AuthRoutesOptions {
  auth: StaffAuthService;
  config: Config;
}

export function authRoutes(app: App, { auth, config }: AuthRoutesOptions): void {
  const cookieName = staffCookieName(config);

  app.post('/api/v1/auth/sign-in', {
    config: { access: 'public', limits: [perClient(LIMITS.signInClient), perTarget(LIMITS.signInAccount)] },
    schema: {
      tags: ['auth'],
      summary: 'Sign in as staff; sets the session cookie',
      body: SignIn,
      response: { 200: SessionInfo, ...problemResponses },
    },
  }, async (request, reply) => {
    const result = await auth.signIn(request.body.email, request.body.password, {
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    });
    reply.setCookie(cookieName, result.token, staffCookieOptions(config, result.expiresAt));
    reply.header('cache-control', 'no-store');
    return { user: presentStaff(result.user), via: 'session' as const, csrfToken: result.csrfToken };
  });

  app.post('/api/v1/auth/sign-out', {
    config: { access: 'staff' },
    schema: { tags: ['auth'], summary: 'End the current session on the server', response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    const principal = staffOf(request);
    if (principal.session !== undefined) await auth.signOut(principal.session.idHash);
    reply.clearCookie(cookieName, { path: '/' });
    return reply.code(204).send(null);
  });

  app.post('/api/v1/auth/password', {
    config: { access: 'staff', limits: [perUser(LIMITS.staffPasswordChange)] },
    schema: {
      tags: ['auth'],
      summary: 'Change your own password: every session of yours ends, and this client gets a new one (its cookie and CSRF token)',
      body: PasswordChange,
      response: { 200: SessionInfo, ...problemResponses },
    },
  }, async (request, reply) => {
    const principal = staffOf(request);
    const user = await auth.changePassword(principal.user.id, request.body.currentPassword, request.body.newPassword);
    reply.header('cache-control', 'no-store');
    // An API token keeps working; a browser's old session ended with the others: it gets a new one.
    if (principal.session === undefined) return { user: presentStaff(user), via: principal.via, csrfToken: null };
    const session = await auth.signIn(user.email, request.body.newPassword, { ip: request.ip, userAgent: request.headers['user-agent'] });
    reply.setCookie(cookieName, session.token, staffCookieOptions(config, session.expiresAt));
    return { user: presentStaff(session.user), via: principal.via, csrfToken: session.csrfToken };
  });

  app.post('/api/v1/auth/password-reset', {
    config: { access: 'public', limits: [perTarget(LIMITS.linkTarget), perClient(LIMITS.linkClient)] },
    schema: {
      tags: ['auth'],
      summary: 'Forgot your password: mails a link that sets a new one to a staff user with this address (the answer is the same for any address)',
      body: PasswordResetRequest,
      response: { 202: Type.Object({ message: Type.String() }), ...problemResponses },
    },
  }, async (request, reply) => {
    await auth.requestPasswordReset(request.body.email);
    reply.header('cache-control', 'no-store');
    return reply.code(202).send({ message: 'If a staff account has this address, a link to set a new password is on its way. It works for an hour.' });
  });

  app.post('/api/v1/auth/password-reset/confirm', {
    config: { access: 'public', limits: [perClient(LIMITS.tokenPageClient)] },
    schema: {
      tags: ['auth'],
      summary: 'Set a new password with the token of an emailed link; every session of the user ends',
      body: PasswordReset,
      response: { 204: Type.Null(), ...problemResponses },
    },
  }, async (request, reply) => {
    await auth.resetPassword(request.body.token, request.body.password);
    reply.header('cache-control', 'no-store');
    return reply.code(204).send(null);
  });

  app.get('/api/v1/auth/session', {
    config: { access: 'staff' },
    schema: { tags: ['auth'], summary: 'Who is signed in', response: { 200: SessionInfo, ...problemResponses } },
  }, async (request, reply) => {
    const principal = staffOf(request);
    reply.header('cache-control', 'no-store');
    return { user: presentStaff(principal.user), via: principal.via, csrfToken: principal.session?.csrfToken ?? null };
  });
}

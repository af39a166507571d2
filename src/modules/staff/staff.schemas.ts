import { Type, type Static } from 'typebox';
import { Email, Line, Nullable, NullableTimestamp, PageQuery, Timestamp } from '../../http/common-schemas.js';
import { PERMISSIONS } from './staff.policy.js';

export const Role = Type.Enum(['admin', 'agent']);
export const PermissionName = Type.Enum(['portal_settings', 'manage_settings', 'manage_staff']);
const Password = Type.String({ minLength: 12, maxLength: 256, description: 'At least 12 characters.' });

export const StaffUser = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    name: Type.String(),
    role: Role,
    permissions: Type.Array(PermissionName),
    disabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {},
);
export type StaffUserT = Static<typeof StaffUser>;

export const StaffUserCreate = Type.Object(
  {
    email: Email,
    name: Line({ maxLength: 200 }),
    role: Role,
    permissions: Type.Optional(Type.Array(PermissionName, { maxItems: PERMISSIONS.length, uniqueItems: true })),
    password: Type.Optional(Password),
  },
  { additionalProperties: false },
);

export const StaffUserUpdate = Type.Object(
  {
    email: Type.Optional(Email),
    name: Type.Optional(Line({ maxLength: 200 })),
    role: Type.Optional(Role),
    permissions: Type.Optional(Type.Array(PermissionName, { maxItems: PERMISSIONS.length, uniqueItems: true })),
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const StaffListQuery = Type.Object(
  { ...PageQuery, sort: Type.Optional(Type.String({ maxLength: 40 })) },
  { additionalProperties: false },
);

export const SignIn = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export const PasswordChange = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Password },
  { additionalProperties: false },
);

export const PasswordResetRequest = Type.Object({ email: Email }, { additionalProperties: false });

export const PasswordReset = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200, description: 'The token from the emailed link.' }), password: Password },
  { additionalProperties: false },
);

export const SessionInfo = Type.Object({
  user: StaffUser,
  via: Type.Enum(['session', 'token']),
  csrfToken: Nullable(Type.String({ description: 'Send as X-CSRF-Token on every unsafe request made with the session cookie.' })),
});

export const ApiToken = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    staffUserId: Type.Integer(),
    prefix: Type.String({ description: 'The first characters of the token, to recognise it.' }),
    createdAt: Timestamp,
    lastUsedAt: NullableTimestamp,
    expiresAt: NullableTimestamp,
    revokedAt: NullableTimestamp,
  },
  {},
);

export const ApiTokenCreate = Type.Object(
  {
    name: Line({ maxLength: 120 }),
    expiresAt: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  },
  { additionalProperties: false },
);

export const ApiTokenCreated = Type.Object({
  token: ApiToken,
  secret: Type.String({ description: 'Shown once. Send as Authorization: Bearer <secret>.' }),
});

export const TokenListQuery = Type.Object(
  { ...PageQuery, staffUserId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })) },
  { additionalProperties: false },
);

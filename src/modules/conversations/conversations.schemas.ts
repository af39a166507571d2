import { Type } from 'typebox';
import { Email, Id, Line, Nullable, PageQuery, Timestamp } from '../../http/common-schemas.js';
import { DKIM_RESULTS, DMARC_POLICIES, DMARC_RESULTS, SPF_RESULTS } from '../mail/sender-verdict.js';

export const ChannelType = Type.Enum(['email', 'form', 'chat', 'portal']);

const ImapHost = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$|^\\[[0-9a-fA-F:.]+\\]$', 'x-hint': 'Enter a host name, like imap.example.com, or an IP address in brackets, like [192.0.2.10].' });
/** An email channel's IMAP mailbox, polled every minute; the password is write-only. */
export const ImapIn = Type.Object(
  {
    host: ImapHost,
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    secure: Type.Boolean({ description: 'TLS from the first byte (port 993); otherwise STARTTLS when the server offers it' }),
    user: Type.String({ minLength: 1, maxLength: 320 }),
    mailbox: Type.String({ minLength: 1, maxLength: 200, default: 'INBOX' }),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Write only; left out, the stored one is kept' })),
  },
  { additionalProperties: false },
);

export const Channel = Type.Object({
  id: Type.Integer(),
  inboxId: Type.Integer(),
  type: ChannelType,
  name: Type.String(),
  address: Nullable(Type.String()),
  imap: Nullable(Type.Object({ host: Type.String(), port: Type.Integer(), secure: Type.Boolean(), user: Type.String(), mailbox: Type.String(), passwordSet: Type.Boolean() })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const Inbox = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  channels: Type.Array(Channel),
  createsTickets: Type.Boolean(),
  pipelineId: Nullable(Type.Integer({ description: 'The pipeline of the tickets it opens; null: the first pipeline' })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const InboxCreate = Type.Object({ name: Line({ maxLength: 100 }) }, { additionalProperties: false });
export const InboxUpdate = Type.Object(
  {
    name: Type.Optional(Line({ maxLength: 100 })),
    createsTickets: Type.Optional(Type.Boolean({ description: 'A new conversation by email (or form) opens a ticket for it' })),
    pipelineId: Type.Optional(Nullable(Id)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const ChannelCreate = Type.Object(
  { type: ChannelType, name: Line({ maxLength: 100 }), address: Type.Optional(Nullable(Email)), imap: Type.Optional(Nullable(ImapIn)) },
  { additionalProperties: false },
);
export const ChannelUpdate = Type.Object(
  { name: Type.Optional(Line({ maxLength: 100 })), address: Type.Optional(Nullable(Email)), imap: Type.Optional(Nullable(ImapIn)) },
  { additionalProperties: false, minProperties: 1 },
);
export const ChannelParams = Type.Object({ id: Id, channelId: Id }, { additionalProperties: false });

export const ThreadStatus = Type.Enum(['open', 'closed']);

export const Thread = Type.Object({
  id: Type.Integer(),
  inboxId: Type.Integer(),
  channelId: Nullable(Type.Integer()),
  ticketId: Nullable(Type.Integer()),
  contactId: Nullable(Type.Integer()),
  subject: Type.String(),
  status: ThreadStatus,
  assigneeId: Nullable(Type.Integer()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastMessageAt: Timestamp,
});

/** A thread as the inbox lists it: with who it is with. */
export const ThreadListItem = Type.Object({
  ...Thread.properties,
  contact: Nullable(Type.Object({ id: Type.Integer(), email: Type.String(), name: Type.String() })),
  held: Type.Boolean({ description: 'The thread has a message whose sender could not be verified, waiting for a staff member to accept it' }),
});

const Body = {
  bodyText: Type.Optional(Type.String({ minLength: 1, maxLength: 200000 })),
  bodyHtml: Type.Optional(Type.String({ minLength: 1, maxLength: 500000 })),
};

export const MessageCreate = Type.Object(
  {
    kind: Type.Optional(Type.Enum(['message', 'comment'], { description: 'comment: an internal note, never shown to customers' })),
    ...Body,
    attachmentIds: Type.Optional(Type.Array(Id, { maxItems: 20, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const ThreadCreate = Type.Object(
  {
    inboxId: Id,
    channelId: Type.Optional(Nullable(Id)),
    ticketId: Type.Optional(Nullable(Id)),
    contactId: Type.Optional(Nullable(Id)),
    subject: Line({ maxLength: 300 }),
    assigneeId: Type.Optional(Nullable(Id)),
    message: Type.Optional(MessageCreate),
  },
  { additionalProperties: false },
);

export const ThreadUpdate = Type.Object(
  {
    subject: Type.Optional(Line({ maxLength: 300 })),
    status: Type.Optional(ThreadStatus),
    assigneeId: Type.Optional(Nullable(Id)),
    ticketId: Type.Optional(Nullable(Id)),
    contactId: Type.Optional(Nullable(Id)),
    inboxId: Type.Optional(Id),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ThreadListQuery = Type.Object(
  {
    ...PageQuery,
    inboxId: Type.Optional(Id),
    status: Type.Optional(ThreadStatus),
    assigneeId: Type.Optional(Id),
    unassigned: Type.Optional(Type.Boolean({ description: 'Threads assigned to nobody; with assigneeId, threads assigned to that person or to nobody.' })),
    ticketId: Type.Optional(Id),
    contactId: Type.Optional(Id),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Threads whose subject contains this text (any case).' })),
  },
  { additionalProperties: false },
);

export const Attachment = Type.Object({
  id: Type.Integer(),
  messageId: Nullable(Type.Integer()),
  filename: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  createdAt: Timestamp,
});

/** What the checks on an incoming mail found about its sender, in the words of the standards it uses. */
export const SenderCheck = Type.Object({
  address: Type.String({ description: 'The address the mail says it is from' }),
  verified: Type.Boolean({
    description: 'Whether the domain of that address vouches for the mail. When false, the mail may not come from that address: anyone can write any address as the sender.',
  }),
  fromDomain: Type.String({ description: 'The domain of that address' }),
  spf: Type.Enum([...SPF_RESULTS], {
    description: 'Whether the server that delivered the mail may send mail for the sender’s domain (SPF): pass, fail, softfail (probably not), neutral, none (the domain says nothing), temperror (could not be looked up just then), permerror (the domain’s record is broken), or unchecked (the mail was fetched from a mailbox, so the delivering server is unknown)',
  }),
  dkim: Type.Enum([...DKIM_RESULTS], {
    description: 'Whether the mail carries a valid signature of a domain (DKIM): pass, fail (the signature does not match: forged, or the mail was changed after it was signed), neutral (the signature could not be confirmed: its text changed on the way, or no usable key, or it expired), none (not signed), temperror (the key could not be looked up just then), permerror (a broken signature), or policy (the key is too weak)',
  }),
  dkimDomain: Nullable(Type.String({ description: 'The domain whose signature the DKIM result is about' })),
  dmarc: Type.Enum([...DMARC_RESULTS], {
    description: 'Whether the sender’s domain, by its published policy (DMARC), confirms the mail through a passing SPF or DKIM check of its own domain: pass, fail, none (the domain publishes no policy), temperror (could not be looked up just then), permerror (the mail names several senders, or a sender that cannot be read one way only)',
  }),
  dmarcPolicy: Nullable(Type.Enum([...DMARC_POLICIES], { description: 'What the sender’s domain asks receivers to do with mail that fails: none (only report it), quarantine (treat it as suspicious), reject (refuse it)' })),
});

export const Message = Type.Object({
  id: Type.Integer(),
  threadId: Type.Integer(),
  kind: Type.Enum(['message', 'comment']),
  authorType: Type.Enum(['customer', 'staff', 'system']),
  contactId: Nullable(Type.Integer({ description: 'The customer who wrote it; null for a held mail from an address no contact has yet' })),
  staffUserId: Nullable(Type.Integer()),
  bodyText: Type.String(),
  bodyHtml: Nullable(Type.String()),
  attachments: Type.Array(Attachment),
  sender: Nullable(Type.Object(SenderCheck.properties, { description: 'For a message that came by email: what the checks found about its sender; null otherwise' })),
  held: Type.Boolean({ description: 'Kept off the customer portal, and unanswered, until a staff member accepts it, because its sender could not be verified' }),
  acceptedAt: Nullable(Type.String({ format: 'date-time', description: 'When a staff member accepted this held message' })),
  acceptedBy: Nullable(Type.Integer({ description: 'The staff member who accepted this held message' })),
  createdAt: Timestamp,
});

export const MessageParams = Type.Object({ id: Id, messageId: Id }, { additionalProperties: false });

export const MessagesQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

/** The app's words for the API's values: what a support admin reads instead of an enum. */
export const STATUS_WORDS: Record<string, string> = { open: 'Open', closed: 'Closed' };
export const LIST_KIND_WORDS: Record<string, string> = { static: 'Fixed list', active: 'Updates itself' };
export const CHANNEL_WORDS: Record<string, string> = { email: 'Email', form: 'Support form', chat: 'Chat', portal: 'Customer portal' };
export const ROLE_WORDS: Record<string, string> = { admin: 'Administrator', agent: 'Agent' };
export const PROPERTY_TYPE_WORDS: Record<string, string> = { text: 'Text', number: 'Number', boolean: 'Yes or no', date: 'Date', enumeration: 'Choice from a list' };
export const OUTBOX_WORDS: Record<string, string> = { queued: 'Waiting to send', sending: 'Sending', sent: 'Sent', failed: 'Failed' };
export const SSO_KIND_WORDS: Record<string, string> = { saml: 'SAML 2.0', jwt: 'JWT', oidc: 'OpenID Connect' };

/** The word for a value, or the value itself when the app has none for it yet. */
export function word(words: Record<string, string>, value: string): string {
  return words[value] ?? value;
}

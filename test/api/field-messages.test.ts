import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RouteEntry } from '../../src/http/types.js';
import { JwtSecrets, JwtSettings, OidcSecrets, OidcSettings, SamlSettings, SSO_DEFAULTS } from '../../src/modules/sso/sso.schemas.js';
import { createStaff, createTestApp, dialects, type TestApp, type TestStaff } from '../helpers/test-app.js';

/**
 * Every constraint of every request schema, broken one at a time: the answer names the field by
 * its stable path, and says what to do in words, never in the validator's (C9).
 */

type Node = Record<string, unknown>;
type Part = 'body' | 'querystring' | 'params';

interface Violation {
  part: Part;
  /** Where the bad value goes, below the request part. */
  at: string[];
  value: unknown;
  keyword: string;
  /** The pointer an error must name (at, or the missing or unknown field below it). */
  expect: string[];
}

/** Settings each kind of provider takes, around the one broken value. */
const VALID_SETTINGS = {
  saml: { idpEntityId: 'https://idp.example.com', idpSsoUrl: 'https://idp.example.com/sso', idpCertificates: [`-----BEGIN CERTIFICATE-----\n${'A'.repeat(120)}\n-----END CERTIFICATE-----`] },
  jwt: { algorithm: 'HS256', issuer: 'https://company.example.com', audience: 'portico', loginUrl: 'https://company.example.com/login' },
  oidc: { issuer: 'https://idp.example.com', clientId: 'portico' },
} as const;

/** Wording a person should never read: regexes, JSON pointers, property keys, Ajv's phrases. */
const FORBIDDEN: [RegExp, string][] = [
  [/\^|\$|\\|\[[^\]]*-[^\]]*\]|\{\d+,?\d*\}|\(\?|\|/, 'a regular expression'],
  [/(^|[\s(])\/(body|querystring|params|headers)\b|#\/|\w\/\d/, 'a JSON pointer'],
  [/\b[a-z]+(?:[A-Z][a-z0-9]*)+\b/, 'a camelCase property key'],
  [/\b[a-z0-9]+_[a-z0-9_]+\b/, 'a snake_case key'],
  [/\bmust\b|\bshould\b|\bNOT\b|min(Length|imum|Items|Properties)|max(Length|imum|Items|Properties)|uniqueItems|additionalProperties|patternProperties|\bpattern\b|anyOf|oneOf|allOf|\benum\b|\bconst\b|format "|required property/, 'validator wording'],
];

function unreadable(text: string): string | undefined {
  for (const [pattern, what] of FORBIDDEN) if (pattern.test(text)) return what;
  return undefined;
}

const ajv = new Ajv({ strict: false, allowUnionTypes: true });
const fits = (schema: Node, value: unknown) => ajv.validate(schema, value);

function types(schema: Node): string[] {
  return Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
}

const SAMPLES: unknown[] = [1, 'a', 'abc', 'en', 'tickets', 'a'.repeat(24), '0'.repeat(64), 'example.com', true, [], {}];

/** A value the schema takes, for the parts around a violation (path ids, unique items). */
function sample(schema: Node): unknown {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if ('const' in schema) return schema.const;
  if (typeof schema.minimum === 'number') return schema.minimum;
  return SAMPLES.find((v) => fits(schema, v)) ?? 'a';
}

const NOT_MATCHING = ['', ' ', 'Not valid!', 'x\u0001y', '-', 'UPPER', '#zz', 'http://example.com', 'a b'];
const OTHER_TYPES: unknown[] = ['text', 12.5, true, [], { a: 1 }];

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

/** One violating value per constraint of `schema`, and of the schemas inside it. */
function violations(schema: Node, part: Part, at: string[], depth = 0): Violation[] {
  const out: Violation[] = [];
  const add = (keyword: string, value: unknown, expect = at) => out.push({ part, at, value, keyword, expect });
  if (depth > 6) return out;
  for (const key of ['anyOf', 'oneOf']) {
    const branches = schema[key] as Node[] | undefined;
    if (branches === undefined) continue;
    const wrong = OTHER_TYPES.find((v) => !branches.some((b) => fits(b, v)));
    if (wrong !== undefined) add(key, wrong);
    for (const branch of branches) if (types(branch).some((t) => t === 'object' || t === 'array')) out.push(...violations(branch, part, at, depth + 1));
  }
  const allowed = types(schema);
  // A query string and a path hold text: any value is text.
  if (allowed.length > 0 && !(part !== 'body' && allowed.includes('string'))) {
    const wrong = OTHER_TYPES.find((v) => !allowed.includes(jsonType(v)));
    if (wrong !== undefined) add('type', wrong);
    if (allowed.includes('integer') && allowed.length === 1) add('type', 1.5);
  }
  if (typeof schema.minLength === 'number' && schema.minLength > 0) add('minLength', 'x'.repeat(schema.minLength - 1));
  if (typeof schema.maxLength === 'number' && schema.maxLength < 300_000) add('maxLength', 'x'.repeat(schema.maxLength + 1));
  if (typeof schema.pattern === 'string') {
    const re = new RegExp(schema.pattern, 'u');
    const bad = NOT_MATCHING.find((v) => !re.test(v));
    if (bad === undefined) throw new Error(`no counter-example for ${schema.pattern}`);
    add('pattern', bad);
  }
  if (typeof schema.format === 'string') add('format', 'not valid at all');
  if (Array.isArray(schema.enum)) add('enum', schema.enum.every((v) => typeof v === 'number') ? 987654 : 'not-a-choice');
  if ('const' in schema) add('const', 'not-a-choice');
  if (typeof schema.minimum === 'number') add('minimum', schema.minimum - 1);
  if (typeof schema.maximum === 'number') add('maximum', schema.maximum + 1);
  if (typeof schema.exclusiveMinimum === 'number') add('exclusiveMinimum', schema.exclusiveMinimum);
  if (typeof schema.exclusiveMaximum === 'number') add('exclusiveMaximum', schema.exclusiveMaximum);
  const items = schema.items as Node | undefined;
  if (items !== undefined) {
    const one = sample(items);
    if (typeof schema.minItems === 'number' && schema.minItems > 0) add('minItems', Array.from({ length: schema.minItems - 1 }, () => one));
    if (typeof schema.maxItems === 'number' && schema.maxItems < 10_000) add('maxItems', Array.from({ length: schema.maxItems + 1 }, (_, i) => (typeof one === 'number' ? one + i : one)));
    if (schema.uniqueItems === true) add('uniqueItems', [one, one]);
    out.push(...violations(items, part, [...at, '0'], depth + 1));
  }
  const properties = schema.properties as Record<string, Node> | undefined;
  if (properties !== undefined || allowed.includes('object')) {
    // A required field with a default is filled in, never missing.
    for (const name of (schema.required as string[] | undefined) ?? []) if (properties?.[name]?.default === undefined) add('required', {}, [...at, name]);
    if (schema.additionalProperties === false) add('additionalProperties', { surprise: 1 }, [...at, 'surprise']);
    if (typeof schema.minProperties === 'number' && schema.minProperties > 0) add('minProperties', {});
    if (typeof schema.maxProperties === 'number') add('maxProperties', Object.fromEntries(Array.from({ length: schema.maxProperties + 1 }, (_, i) => [`k${i}`, null])));
    for (const [name, child] of Object.entries(properties ?? {})) out.push(...violations(child, part, [...at, name], depth + 1));
    for (const [pattern, child] of Object.entries((schema.patternProperties as Record<string, Node> | undefined) ?? {})) {
      const key = ['abc', 'a.b', 'tickets.heading'].find((k) => new RegExp(pattern, 'u').test(k));
      if (key !== undefined) out.push(...violations(child, part, [...at, key], depth + 1));
    }
  }
  return out;
}

/** The value at `at` inside an otherwise empty request part. */
function nest(at: string[], value: unknown): unknown {
  if (at.length === 0) return value;
  const [head, ...rest] = at as [string, ...string[]];
  return /^\d+$/.test(head) ? [nest(rest, value)] : { [head]: nest(rest, value) };
}

function pointer(part: string, at: string[]): string {
  return `/${[part, ...at].join('/')}`;
}

interface Sent {
  method: string;
  url: string;
  payload?: unknown;
}

function request(route: RouteEntry, v: Violation): Sent | undefined {
  const params = route.schemas.params as Node | undefined;
  const paramSchemas = (params?.properties ?? {}) as Record<string, Node>;
  let url = route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    if (v.part === 'params' && v.at[0] === name) return encodeURIComponent(String(v.value));
    return encodeURIComponent(String(paramSchemas[name] === undefined ? 1 : sample(paramSchemas[name])));
  });
  if (v.part === 'params' && (v.at.length !== 1 || !route.url.includes(`:${v.at[0]}`))) return undefined;
  if (v.part === 'querystring') {
    if (v.at.length !== 1) return undefined; // a query string holds names and text only
    if (typeof v.value === 'object' && v.value !== null) return undefined;
    url += `?${encodeURIComponent(v.at[0] ?? '')}=${encodeURIComponent(String(v.value))}`;
  }
  // Fastify matches no route for a path part over its maxParamLength (100): nothing to validate.
  if (v.part === 'params' && (typeof v.value === 'object' || v.value === '' || JSON.stringify(v.value).length > 100)) return undefined;
  const body = v.part === 'body' ? nest(v.at, v.value) : route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
  return body === undefined ? { method: route.method, url } : { method: route.method, url, payload: body };
}

describe.each(dialects)('human field messages on %s', (dialect) => {
  let t: TestApp;
  let admin: TestStaff;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    await createStaff(t); // a bystander takes id 1, so the walk never disables its caller
    admin = await createStaff(t, { role: 'admin' });
    const portal = await t.app.services.portals.create({ name: 'Fixture portal', domain: 'fixture.example.com', consentText: 'ok' });
    expect(portal.id).toBe(1);
  });
  afterAll(async () => {
    await t.close();
  });

  async function send(sent: Sent) {
    return t.app.inject({
      method: sent.method as 'POST',
      url: sent.url,
      headers: { ...admin.auth, ...(sent.payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(sent.payload === undefined ? {} : { payload: JSON.stringify(sent.payload) }),
    });
  }

  /** What is wrong with one answer to a violation, if anything. */
  function judge(what: string, res: { statusCode: number; body: string }, expected: string): string[] {
    if (res.statusCode !== 400) return [`${what}: answered ${res.statusCode}, not 400: ${res.body.slice(0, 200)}`];
    const problem = JSON.parse(res.body) as { title: string; errors?: { path: string; label: string; message: string }[] };
    const found: string[] = [];
    const fieldErrors = problem.errors ?? [];
    if (!fieldErrors.some((e) => e.path === expected || e.path.startsWith(`${expected}/`))) found.push(`${what}: no error at ${expected}: ${res.body.slice(0, 300)}`);
    for (const text of [problem.title, ...fieldErrors.flatMap((e) => [e.label, e.message])]) {
      const why = unreadable(text);
      if (why !== undefined) found.push(`${what}: "${text}" shows ${why}`);
      if (!/^[A-Z0-9"“]/.test(text)) found.push(`${what}: "${text}" does not start as a sentence or a name`);
    }
    for (const e of fieldErrors) if (!/[.!?]$/.test(e.message)) found.push(`${what}: "${e.message}" is not a sentence`);
    return found;
  }

  test('C9 every constraint of every route’s body, query and path, broken: a 400 naming the field, in words', async () => {
    const routes = t.app.routeTable.filter((r) => r.access !== 'portal' && r.access !== 'member' && r.method !== 'HEAD');
    const problems: string[] = [];
    const keywords = new Set<string>();
    let sentCount = 0;
    for (const route of routes) {
      for (const part of ['params', 'querystring', 'body'] as const) {
        const schema = route.schemas[part] as Node | undefined;
        if (schema === undefined) continue;
        for (const v of violations(schema, part, [])) {
          const sent = request(route, v);
          if (sent === undefined) continue;
          const res = await send(sent);
          sentCount += 1;
          keywords.add(v.keyword);
          problems.push(...judge(`${route.method} ${route.url} ${part} ${v.at.join('.')} ${v.keyword}`, res, pointer(part, v.expect)));
        }
      }
    }
    expect(problems).toEqual([]);
    expect(sentCount).toBeGreaterThan(300);
    // The walk reached every kind of constraint the schemas use.
    for (const k of ['type', 'required', 'additionalProperties', 'minLength', 'maxLength', 'pattern', 'format', 'enum', 'minimum', 'maximum', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'anyOf']) expect(keywords).toContain(k);
  }, 240_000);

  test('C9 every pattern in every request schema says in words what it takes (x-hint), as every message does', () => {
    const missing: string[] = [];
    let patterns = 0;
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => { walk(n, `${where}/${i}`); });
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Node;
      if (typeof schema.pattern === 'string') {
        patterns += 1;
        const hint = schema['x-hint'];
        if (typeof hint !== 'string') missing.push(`${where}: ${schema.pattern}`);
        else if (unreadable(hint) !== undefined || !/^[A-Z].*\.$/.test(hint)) missing.push(`${where}: the hint "${hint}" is not a plain sentence`);
      }
      for (const [key, child] of Object.entries(schema)) if (key !== 'pattern' && key !== 'x-hint') walk(child, `${where}/${key}`);
    };
    for (const r of t.app.routeTable) walk(r.schemas, `${r.method} ${r.url}`);
    for (const [name, schema] of Object.entries({ SamlSettings, JwtSettings, OidcSettings })) walk(schema, name);
    expect(missing).toEqual([]);
    expect(patterns).toBeGreaterThan(15);
  });

  test('C9 the settings of each kind of single sign-on provider, checked by the service, answer in words too', async () => {
    const problems: string[] = [];
    const kinds = [
      ['saml', 'settings', SamlSettings],
      ['jwt', 'settings', JwtSettings],
      ['oidc', 'settings', OidcSettings],
      ['jwt', 'secrets', JwtSecrets],
      ['oidc', 'secrets', OidcSecrets],
    ] as const;
    for (const [kind, where, schema] of kinds) {
      const base = VALID_SETTINGS[kind];
      for (const v of violations(schema as unknown as Node, 'body', [])) {
        let value: Record<string, unknown>;
        const [head, ...rest] = v.at;
        if (v.keyword === 'required' && v.at.length === 0) {
          const name = v.expect.at(-1) ?? '';
          if (name in SSO_DEFAULTS[kind]) continue; // a default fills it in
          value = Object.fromEntries(Object.entries(where === 'settings' ? base : {}).filter(([k]) => k !== name));
        } else if (head === undefined) {
          if (typeof v.value !== 'object' || v.value === null || Array.isArray(v.value)) continue; // the route itself refuses those
          value = { ...(where === 'settings' ? base : {}), ...(v.value as Record<string, unknown>) };
        } else {
          value = { ...(where === 'settings' ? base : {}), [head]: nest(rest, v.value) };
        }
        const payload = where === 'settings' ? { kind, name: 'Company IdP', settings: value } : { kind, name: 'Company IdP', settings: base, secrets: value };
        const res = await send({ method: 'POST', url: '/api/v1/portals/1/sso-providers', payload });
        problems.push(...judge(`${kind} ${where} ${v.at.join('.')} ${v.keyword}`, res, pointer(`body/${where}`, v.expect)));
      }
    }
    expect(problems).toEqual([]);
  });

  test('P39 an idle timeout below its minimum is refused at the field, naming the minimum, and nothing is saved; left out, it is the documented 60', async () => {
    const created = await send({ method: 'POST', url: '/api/v1/portals', payload: { name: 'Timeout portal' } });
    expect(created.json()).toMatchObject({ idleTimeoutMinutes: 60 });
    const url = `/api/v1/portals/${String(created.json().id)}`;
    for (const minutes of [0, 1, 2, 4]) {
      const res = await send({ method: 'PATCH', url, payload: { idleTimeoutMinutes: minutes, title: 'Changed' } });
      expect(res.statusCode, String(minutes)).toBe(400);
      expect(res.json().errors).toEqual([{ path: '/body/idleTimeoutMinutes', label: 'Idle timeout', message: 'Enter a whole number of minutes from 5 to 43,200.' }]);
    }
    expect((await send({ method: 'GET', url })).json()).toMatchObject({ idleTimeoutMinutes: 60, title: 'Timeout portal' });
    expect((await send({ method: 'PATCH', url, payload: { idleTimeoutMinutes: 5 } })).json()).toMatchObject({ idleTimeoutMinutes: 5 });
  });

  test('C9 what the messages say: the field by its label, the rule in plain words, the path unchanged', async () => {
    const patch = (payload: unknown) => send({ method: 'PATCH', url: '/api/v1/portals/1', payload });
    const slug = (await patch({ slug: 'Help Center' })).json();
    expect(slug).toMatchObject({ code: 'VALIDATION_FAILED', title: 'Slug: use lower-case letters, digits and hyphens, like help-center.' });
    expect(slug.errors).toEqual([{ path: '/body/slug', label: 'Slug', message: 'Use lower-case letters, digits and hyphens, like help-center.' }]);
    const idle = (await patch({ idleTimeoutMinutes: 2 })).json();
    expect(idle.errors).toEqual([{ path: '/body/idleTimeoutMinutes', label: 'Idle timeout', message: 'Enter a whole number of minutes from 5 to 43,200.' }]);
    const scope = (await patch({ scope: 'everyone', menu: [{ label: 'Help', url: 'ftp://x' }] })).json();
    expect(scope.title).toBe('Check these fields: ticket visibility and address of menu item 1.');
    expect(scope.errors).toContainEqual({ path: '/body/menu/0/url', label: 'Address of menu item 1', message: 'Enter an address starting with https://, or a path on the portal starting with /, like /support/kb.' });
    expect(scope.errors).toContainEqual({ path: '/body/scope', label: 'Ticket visibility', message: 'Choose one of: own tickets, company tickets.' });
    const certificate = (await send({ method: 'POST', url: '/api/v1/portals/1/sso-providers', payload: { kind: 'saml', name: 'IdP', settings: { idpEntityId: 'https://idp.example.com', idpSsoUrl: 'https://idp.example.com/sso', idpCertificates: ['MIIC'] } } })).json();
    expect(certificate.errors).toContainEqual({ path: '/body/settings/idpCertificates/0', label: 'Identity provider certificates, item 1', message: 'Enter at least 100 characters.' });
    const unknown = (await send({ method: 'POST', url: '/api/v1/companies', payload: { name: 'x', color: 'red' } })).json();
    expect(unknown.errors).toEqual([{ path: '/body/color', label: 'Color', message: 'Remove this: it is not a field this request takes.' }]);
    const missing = (await send({ method: 'POST', url: '/api/v1/companies', payload: {} })).json();
    expect(missing).toMatchObject({ title: 'Name: fill this in.', errors: [{ path: '/body/name', label: 'Name', message: 'Fill this in.' }] });
  });
});

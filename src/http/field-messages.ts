import type { FieldError } from '../errors.js';

/**
 * Validation failures in plain words. Ajv's own wording quotes the regex a value missed, or
 * counts characters in its keyword's terms; a person reads "Use lower-case letters, digits and
 * hyphens, like help-center" and "Enter at least 100 characters". Each field error keeps its
 * stable `path` (a JSON pointer into the request) and gains a `label`, the field's name in words:
 * the schema's `title`, or a readable form of the property name ("idle timeout", never
 * "idleTimeoutMinutes").
 *
 * A `pattern` cannot be explained from the regex, so every schema with one carries its own
 * sentence in the `x-hint` annotation (a test holds every pattern to it); an enum may name its
 * values for people in `x-enum-names`.
 */

/** One issue as Ajv reports it (validators compiled with `verbose: true`, so with its schema). */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  parentSchema?: SchemaNode;
}

/** A JSON Schema, as far as the messages read it. */
export type SchemaNode = Record<string, unknown>;

export const HINT = 'x-hint';
export const ENUM_NAMES = 'x-enum-names';

const ACRONYMS: Record<string, string> = {
  id: 'ID', ids: 'IDs', url: 'address', urls: 'addresses', idp: 'identity provider', sso: 'single sign-on',
  imap: 'IMAP', smtp: 'SMTP', jwks: 'JWKS', jwt: 'JWT', kb: 'knowledge base', acs: 'ACS', html: 'HTML',
  csrf: 'CSRF', oidc: 'OpenID Connect', saml: 'SAML', xml: 'XML', pem: 'PEM', api: 'API', ip: 'IP',
};
const UNITS = new Set(['minutes', 'seconds', 'hours', 'days', 'bytes']);

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_.-]+/)
    .filter((w) => w !== '')
    .map((w) => (/^[A-Z0-9]+$/.test(w) && w.length > 1 ? w : w.toLowerCase()));
}

/** A property name in words: `idpSsoUrl` → "identity provider single sign-on address". */
export function readable(key: string): string {
  return words(key).map((w) => ACRONYMS[w.toLowerCase()] ?? w).join(' ');
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Lower-cases a sentence's first word unless it is an acronym ("IMAP port" stays). */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

const count = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n));

/** The schema below `node` for one step of an instance path, looking through anyOf/oneOf/allOf. */
function childSchema(node: SchemaNode | undefined, segment: string): SchemaNode | undefined {
  if (node === undefined) return undefined;
  const properties = node.properties as Record<string, SchemaNode> | undefined;
  if (properties?.[segment] !== undefined) return properties[segment];
  if (/^\d+$/.test(segment) && node.items !== undefined && typeof node.items === 'object') return node.items as SchemaNode;
  const patterns = node.patternProperties as Record<string, SchemaNode> | undefined;
  for (const [pattern, schema] of Object.entries(patterns ?? {})) if (new RegExp(pattern, 'u').test(segment)) return schema;
  if (typeof node.additionalProperties === 'object') return node.additionalProperties as SchemaNode;
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    for (const branch of (node[key] as SchemaNode[] | undefined) ?? []) {
      const found = childSchema(branch, segment);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function titleOf(node: SchemaNode | undefined): string | undefined {
  return typeof node?.title === 'string' ? node.title : undefined;
}

/** A property name in words, with the unit its name ends in set apart ("idle timeout", "minutes"). */
function nameAndUnit(key: string, schema: SchemaNode | undefined): { name: string; unit?: string } {
  const all = words(key);
  const last = all.at(-1);
  const unit = last !== undefined && all.length > 1 && UNITS.has(last) ? last : undefined;
  const name = titleOf(schema) ?? readable(unit === undefined ? key : all.slice(0, -1).join('_'));
  return unit === undefined ? { name } : { name, unit };
}

/**
 * A field's name in words, from its path below the request part: the nearest property's title or
 * readable name, with the items of a list counted from one ("identity provider certificates,
 * item 1").
 */
export function labelFor(segments: string[], root: SchemaNode | undefined, whole = 'request'): { label: string; unit?: string } {
  let node = root;
  const nodes: (SchemaNode | undefined)[] = [];
  for (const segment of segments) {
    node = childSchema(node, segment);
    nodes.push(node);
  }
  let k = segments.length - 1;
  while (k >= 0 && /^\d+$/.test(segments[k] ?? '')) k -= 1;
  const items = (from: number) => segments.slice(from).map((s) => `item ${Number(s) + 1}`);
  if (k < 0) return { label: upperFirst([whole, ...items(0)].join(', ')) };
  const { name, unit } = nameAndUnit(segments[k] ?? '', nodes[k]);
  let label = [name, ...items(k + 1)].join(', ');
  // A field inside a list's item: "Address of menu item 1".
  if (k > 0 && /^\d+$/.test(segments[k - 1] ?? '')) label = `${label} of ${lowerFirst(labelFor(segments.slice(0, k), root, whole).label).replace(/, item/g, ' item')}`;
  return unit === undefined ? { label: upperFirst(label) } : { label: upperFirst(label), unit };
}

function typeNames(type: unknown): string[] {
  const types = Array.isArray(type) ? (type as string[]) : typeof type === 'string' ? [type] : [];
  const names: Record<string, string> = { string: 'text', integer: 'a whole number', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a group of named fields' };
  return types.filter((t) => t !== 'null').map((t) => names[t] ?? 'a value');
}

function enumName(schema: SchemaNode | undefined, value: unknown): string {
  const names = schema?.[ENUM_NAMES] as Record<string, string> | undefined;
  if (typeof value === 'string') return names?.[value] ?? (readable(value) || 'nothing');
  if (value === null) return 'nothing';
  return JSON.stringify(value);
}

function oneOfList(schema: SchemaNode | undefined, values: unknown[]): string {
  const shown = values.filter((v) => v !== null).map((v) => enumName(schema, v));
  return `Choose one of: ${shown.join(', ')}${values.includes(null) ? ' (or leave it empty)' : ''}.`;
}

/** "a, b or c" (or "and"). */
function series(items: string[], last: 'or' | 'and'): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${last} ${items.at(-1) ?? ''}`;
}

function typeMessage(type: unknown, unit: string | undefined, atRoot: boolean): string {
  if (atRoot) return 'Send the request body as a JSON object with named fields.';
  const names = typeNames(type);
  const nullable = Array.isArray(type) && type.includes('null');
  if (names.length === 1 && names[0] === 'true or false') return `Choose true or false${nullable ? ', or leave it empty' : ''}.`;
  if (names.length === 1 && names[0] === 'a whole number' && unit !== undefined) return `Enter a whole number of ${unit}.`;
  if (names.length === 0) return 'Leave this empty.';
  return `Enter ${series(names, 'or')}${nullable ? ', or leave it empty' : ''}.`;
}

function formatMessage(format: unknown): string {
  switch (format) {
    case 'email': return 'Enter an email address, like name@example.com.';
    case 'date-time': return 'Enter a date and time, like 2026-12-31T09:30:00Z.';
    case 'date': return 'Enter a date, like 2026-12-31.';
    case 'time': return 'Enter a time, like 09:30:00Z.';
    case 'uri': case 'url': return 'Enter a full web address, like https://example.com.';
    case 'hostname': return 'Enter a host name, like support.example.com.';
    case 'uuid': return 'Enter an identifier like 123e4567-e89b-12d3-a456-426614174000.';
    default: return typeof format === 'string' ? `Enter a valid ${readable(format)}.` : 'Enter a value in the expected form.';
  }
}

function numberMessage(schema: SchemaNode | undefined, unit: string | undefined, bound: 'min' | 'max', limit: unknown, exclusive: boolean): string {
  const whole = schema?.type === 'integer' || (Array.isArray(schema?.type) && (schema.type as string[]).includes('integer'));
  const min = schema?.minimum;
  const max = schema?.maximum;
  if (!exclusive && typeof min === 'number' && typeof max === 'number') {
    if (unit !== undefined) return `Enter ${whole ? 'a whole number of ' : ''}${unit} from ${count(min)} to ${count(max)}.`;
    return `Enter ${whole ? 'a whole number' : 'a number'} from ${count(min)} to ${count(max)}.`;
  }
  const relation = exclusive ? (bound === 'min' ? 'greater than' : 'less than') : bound === 'min' ? 'at least' : 'at most';
  if (unit !== undefined) return `Enter ${relation} ${count(limit)} ${unit}.`;
  return `Enter ${whole ? 'a whole number' : 'a number'} ${exclusive ? '' : 'of '}${relation} ${count(limit)}.`;
}

/** One issue's message, a sentence to show at the field. */
function messageFor(issue: ValidationIssue, unit: string | undefined, atRoot: boolean, extraField: string): string {
  const p = issue.params;
  const schema = issue.parentSchema;
  switch (issue.keyword) {
    case 'type': return typeMessage(p.type, unit, atRoot);
    case 'required': return 'Fill this in.';
    case 'additionalProperties': return extraField;
    case 'minLength': return p.limit === 1 ? 'Fill this in.' : `Enter at least ${count(p.limit)} characters.`;
    case 'maxLength': return `Enter at most ${count(p.limit)} characters.`;
    case 'minimum': return numberMessage(schema, unit, 'min', p.limit, false);
    case 'maximum': return numberMessage(schema, unit, 'max', p.limit, false);
    case 'exclusiveMinimum': return numberMessage(schema, unit, 'min', p.limit, true);
    case 'exclusiveMaximum': return numberMessage(schema, unit, 'max', p.limit, true);
    case 'multipleOf': return `Enter a multiple of ${count(p.multipleOf)}.`;
    case 'enum': return oneOfList(schema, (p.allowedValues as unknown[] | undefined) ?? []);
    case 'const': return oneOfList(schema, [p.allowedValue]);
    case 'format': return formatMessage(p.format);
    case 'pattern': {
      const hint = schema?.[HINT];
      return typeof hint === 'string' ? hint : 'Enter a value in the expected form.';
    }
    case 'minItems': return p.limit === 1 ? 'Give at least one.' : `Give at least ${count(p.limit)}.`;
    case 'maxItems': return `Give at most ${count(p.limit)}.`;
    case 'uniqueItems': return `Give each one once: items ${count(Math.min(Number(p.i), Number(p.j)) + 1)} and ${count(Math.max(Number(p.i), Number(p.j)) + 1)} are the same.`;
    case 'minProperties': return atRoot ? 'Send at least one field to change.' : p.limit === 1 ? 'Give at least one.' : `Give at least ${count(p.limit)} entries.`;
    case 'maxProperties': return `Give at most ${count(p.limit)} entries.`;
    default: return 'This value is not allowed here.';
  }
}

function within(schemaPath: string, parent: string): boolean {
  return schemaPath.startsWith(`${parent}/`);
}

/** The branch index of an issue below an anyOf/oneOf at `parent` ("#/…/anyOf/1/type" → 1). */
function branchOf(schemaPath: string, parent: string): number {
  return Number(schemaPath.slice(parent.length + 1).split('/')[0]);
}

/**
 * An alternative (anyOf/oneOf) that failed reports every branch's complaint: keeps the branch the
 * value was meant for (the one whose type fits, with the fewest complaints), or says in one
 * message what the alternatives take ("Choose one of: …", "Enter text or a whole number").
 */
function collapseAlternatives(issues: ValidationIssue[]): ValidationIssue[] {
  let rest = issues;
  for (;;) {
    const alternative = rest
      .filter((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf')
      .sort((a, b) => a.schemaPath.length - b.schemaPath.length)[0];
    if (alternative === undefined) return rest;
    const at = alternative.schemaPath;
    const inside = rest.filter((i) => within(i.schemaPath, at));
    const others = rest.filter((i) => i !== alternative && !within(i.schemaPath, at));
    const branches = new Map<number, ValidationIssue[]>();
    for (const issue of inside) branches.set(branchOf(issue.schemaPath, at), [...(branches.get(branchOf(issue.schemaPath, at)) ?? []), issue]);
    const fitting = [...branches.values()]
      .filter((list) => !list.some((i) => i.instancePath === alternative.instancePath && ['type', 'const', 'enum'].includes(i.keyword)))
      .sort((a, b) => a.length - b.length);
    const chosen = fitting[0];
    if (chosen !== undefined && chosen.length > 0) {
      rest = [...others, ...chosen];
      continue;
    }
    const options = ((alternative.parentSchema?.[alternative.keyword] as SchemaNode[] | undefined) ?? []);
    const consts = options.every((o) => 'const' in o || Array.isArray(o.enum) || o.type === 'null');
    const summary: ValidationIssue = consts
      ? { ...alternative, keyword: 'enum', params: { allowedValues: options.flatMap((o) => ('const' in o ? [o.const] : Array.isArray(o.enum) ? (o.enum as unknown[]) : [null])) } }
      : { ...alternative, keyword: 'type', params: { type: options.flatMap((o) => (Array.isArray(o.type) ? (o.type as string[]) : typeof o.type === 'string' ? [o.type] : [])) } };
    rest = [...others, summary];
  }
}

export interface DescribeOptions {
  /** The pointer prefix of the request part: "/body", "/querystring", "/body/settings". */
  prefix: string;
  /** The schema the issues' instance paths start from, for the fields' titles. */
  root?: SchemaNode;
  /** What an unknown field is told. */
  unknownField?: string;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Ajv's issues as field errors: stable paths, each with its label and a message in words. */
export function describeIssues(issues: ValidationIssue[], options: DescribeOptions): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  const whole = options.prefix === '/body' ? 'request' : readable(options.prefix.split('/').at(-1) ?? 'request');
  for (const issue of collapseAlternatives(issues)) {
    const segments = issue.instancePath === '' ? [] : issue.instancePath.slice(1).split('/').map(unescapePointer);
    let path = `${options.prefix}${issue.instancePath}`;
    const extra = issue.keyword === 'required' ? issue.params.missingProperty : issue.keyword === 'additionalProperties' ? issue.params.additionalProperty : undefined;
    if (typeof extra === 'string') {
      segments.push(extra);
      path += `/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    }
    const { label, unit } = labelFor(segments, options.root, whole);
    const message = messageFor(issue, unit, segments.length === 0 && options.prefix === '/body', options.unknownField ?? 'Remove this: it is not a field this request takes.');
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, label, message });
  }
  return out;
}

/** A field error's label when its maker gave none: the readable name at the end of its path. */
export function labelOfPath(path: string): string {
  const segments = path.split('/').slice(1).map(unescapePointer);
  const part = segments.shift();
  return labelFor(segments, undefined, part === undefined || part === 'body' ? 'request' : readable(part)).label;
}

/** The problem's title for field errors: a sentence naming the fields. */
export function summarize(fieldErrors: FieldError[]): string {
  const labels = [...new Set(fieldErrors.map((e) => e.label ?? labelOfPath(e.path)))];
  const first = fieldErrors[0];
  if (first === undefined) return 'The request is not valid.';
  if (labels.length === 1) {
    const what = fieldErrors.length === 1 ? lowerFirst(first.message).replace(/\.$/, '') : 'see what is wrong with it below';
    return `${labels[0] ?? 'Request'}: ${what}.`;
  }
  const shown = labels.slice(0, 5).map(lowerFirst);
  const more = labels.length - shown.length;
  return more > 0 ? `Check these fields: ${shown.join(', ')} and ${more} more.` : `Check these fields: ${series(shown, 'and')}.`;
}

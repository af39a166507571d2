import { ActionIcon, Button, Group, MultiSelect, NumberInput, Paper, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Ok } from '../api/client';
import { usePipelines, useStaff } from './lookups';

export interface Condition {
  property: string;
  operator: 'is' | 'is_not' | 'is_any_of' | 'is_none_of' | 'is_known' | 'is_unknown' | 'contains' | 'starts_with';
  value?: string | number | boolean;
  values?: (string | number | boolean)[];
}

type Property = Ok<'/api/v1/filter-properties/{entity}'>['items'][number];
type Operator = Condition['operator'];
interface Choice { value: string; label: string }

const OPERATOR_LABELS: Record<Operator, string> = {
  is: 'is', is_not: 'is not', is_any_of: 'is any of', is_none_of: 'is none of', is_known: 'is filled in', is_unknown: 'is empty', contains: 'contains', starts_with: 'starts with',
};

/** The operators that make sense for a property: text has contains; a yes/no has no lists. */
function operatorsFor(p: Property | undefined): Operator[] {
  if (p === undefined) return ['is'];
  if (p.type === 'boolean') return ['is', 'is_known', 'is_unknown'];
  if (p.type === 'text' && p.options === undefined) return ['is', 'is_not', 'contains', 'starts_with', 'is_any_of', 'is_none_of', 'is_known', 'is_unknown'];
  return ['is', 'is_not', 'is_any_of', 'is_none_of', 'is_known', 'is_unknown'];
}

const many = (o: Operator) => o === 'is_any_of' || o === 'is_none_of';
const none = (o: Operator) => o === 'is_known' || o === 'is_unknown';

/** The values a property takes, by name (pipelines, stages, staff, companies, a list's options). */
function useChoices(p: Property | undefined, companyQuery: string, known: (string | number | boolean)[]): Choice[] | undefined {
  const pipelines = usePipelines();
  const staff = useStaff();
  const companies = useQuery({
    queryKey: ['companies', 'choices', companyQuery],
    queryFn: () => call(api.GET('/api/v1/companies', { params: { query: { limit: 20, ...(companyQuery === '' ? {} : { name: companyQuery }) } } })),
    enabled: p?.choices === 'companies',
    staleTime: 30_000,
  });
  const chosen = useQuery({
    queryKey: ['companies', 'named', known],
    queryFn: async () => Promise.all(known.filter((v) => typeof v === 'number').map((id) => call(api.GET('/api/v1/companies/{id}', { params: { path: { id } } })).catch(() => null))),
    enabled: p?.choices === 'companies' && known.length > 0,
    staleTime: 60_000,
  });
  if (p === undefined) return undefined;
  if (p.options !== undefined) return p.options;
  if (p.type === 'boolean') return [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }];
  switch (p.choices) {
    case 'pipelines':
      return (pipelines.data ?? []).map((x) => ({ value: String(x.id), label: x.name }));
    case 'stages': {
      const all = pipelines.data ?? [];
      return all.flatMap((x) => x.stages.map((s) => ({ value: String(s.id), label: all.length > 1 ? `${x.name}: ${s.name}` : s.name })));
    }
    case 'staff':
      return (staff.data ?? []).map((x) => ({ value: String(x.id), label: x.name }));
    case 'companies': {
      const found = new Map<string, Choice>();
      for (const c of chosen.data ?? []) if (c !== null) found.set(String(c.id), { value: String(c.id), label: c.name });
      for (const c of companies.data?.items ?? []) found.set(String(c.id), { value: String(c.id), label: c.name });
      return [...found.values()];
    }
    default:
      return undefined;
  }
}

/** A chosen value back to what the API takes: ids and numbers as numbers, yes/no as booleans. */
function typed(p: Property | undefined, text: string): string | number | boolean {
  if (p === undefined) return text;
  if (p.type === 'boolean') return text === 'true';
  if (p.type === 'id' || p.type === 'number') {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  return text;
}

function ConditionRow({ index, condition: c, properties, onChange, onRemove }: { index: number; condition: Condition; properties: Property[]; onChange: (c: Condition) => void; onRemove: () => void }) {
  const p = properties.find((x) => x.property === c.property);
  const [companyTyped, setCompanyTyped] = useState('');
  const [companyQuery] = useDebouncedValue(companyTyped.trim(), 250);
  // An empty value is "nothing chosen yet", never a choice of its own.
  const values = (many(c.operator) ? (c.values ?? []) : c.value === undefined ? [] : [c.value]).filter((v) => v !== '');
  const choices = useChoices(p, companyQuery, values);
  const n = index + 1;
  const operators = operatorsFor(p);
  const asText = values.map(String);

  const valueInput = () => {
    if (none(c.operator)) return null;
    if (choices !== undefined) {
      const searchable = p?.choices === 'companies' ? { searchable: true, searchValue: companyTyped, onSearchChange: setCompanyTyped } : { searchable: true };
      // A value no longer offered (a removed stage, an old option) still shows, by its stored value.
      const data = [...choices, ...asText.filter((v) => !choices.some((x) => x.value === v)).map((v) => ({ value: v, label: `${v} (no longer exists)` }))];
      return many(c.operator)
        ? <MultiSelect aria-label={`Condition ${n}: values`} placeholder="Choose values" data={data} value={asText} style={{ flex: 1, minWidth: 180 }} {...searchable}
            onChange={(v) => onChange({ property: c.property, operator: c.operator, values: v.map((x) => typed(p, x)) })} />
        : <Select aria-label={`Condition ${n}: value`} placeholder="Choose a value" data={data} value={asText[0] ?? null} style={{ flex: 1, minWidth: 180 }} allowDeselect={false} {...searchable}
            onChange={(v) => v !== null && onChange({ property: c.property, operator: c.operator, value: typed(p, v) })} />;
    }
    if (p?.type === 'number' && !many(c.operator)) {
      return <NumberInput aria-label={`Condition ${n}: value`} placeholder="A number" value={typeof c.value === 'number' ? c.value : ''} style={{ flex: 1, minWidth: 140 }}
        onChange={(v) => onChange({ property: c.property, operator: c.operator, value: typeof v === 'number' ? v : Number(v) })} />;
    }
    const text = asText.join(', ');
    return <TextInput aria-label={`Condition ${n}: value`} placeholder={many(c.operator) ? 'Values, separated by commas' : 'Value'} value={text} style={{ flex: 1, minWidth: 180 }}
      onChange={(e) => {
        const t = e.currentTarget.value;
        onChange(many(c.operator)
          ? { property: c.property, operator: c.operator, values: t.split(',').map((v) => v.trim()).filter((v) => v !== '').map((v) => typed(p, v)) }
          : { property: c.property, operator: c.operator, value: typed(p, t) });
      }} />;
  };

  return (
    <Paper withBorder p="xs" component="li" style={{ listStyle: 'none' }}>
      <Group gap="xs" align="center" wrap="wrap">
        {index > 0 && <Text size="sm" c="dimmed" w={32}>and</Text>}
        <Select aria-label={`Condition ${n}: property`} data={properties.map((x) => ({ value: x.property, label: x.label }))} value={c.property} allowDeselect={false} searchable w={200}
          onChange={(v) => {
            if (v === null || v === c.property) return;
            const next = properties.find((x) => x.property === v);
            const op = operatorsFor(next).includes(c.operator) ? c.operator : 'is';
            onChange(none(op) ? { property: v, operator: op } : many(op) ? { property: v, operator: op, values: [] } : { property: v, operator: op, value: next?.type === 'boolean' ? true : '' });
          }} />
        <Select aria-label={`Condition ${n}: how it compares`} data={operators.map((o) => ({ value: o, label: OPERATOR_LABELS[o] }))} value={c.operator} allowDeselect={false} w={150}
          onChange={(v) => {
            if (v === null) return;
            const op = v;
            if (none(op)) onChange({ property: c.property, operator: op });
            else if (many(op)) onChange({ property: c.property, operator: op, values: values });
            else onChange({ property: c.property, operator: op, value: values[0] ?? (p?.type === 'boolean' ? true : '') });
          }} />
        {valueInput()}
        <ActionIcon variant="subtle" color="gray" size="lg" aria-label={`Remove condition ${n}`} onClick={onRemove}>×</ActionIcon>
      </Group>
    </Paper>
  );
}

/**
 * Conditions on contact or ticket properties, in people's words: properties by their labels,
 * operators that fit each one, values picked by name. The API keeps ids; the screen shows none.
 */
export function FilterEditor({ entity, value, onChange, label, description }: { entity: 'contacts' | 'tickets'; value: Condition[]; onChange: (c: Condition[]) => void; label: string; description?: string }) {
  const properties = useQuery({ queryKey: ['filter-properties', entity], queryFn: () => call(api.GET('/api/v1/filter-properties/{entity}', { params: { path: { entity } } })), staleTime: 60_000 });
  const items = properties.data?.items ?? [];
  return (
    <Stack gap="xs" role="group" aria-label={label}>
      <div>
        <Text size="sm" fw={500}>{label}</Text>
        {description !== undefined && <Text size="xs" c="dimmed">{description}</Text>}
      </div>
      {value.length === 0 && <Text size="sm" c="dimmed">No conditions: every one counts.</Text>}
      {value.length > 0 && (
        <Stack gap="xs" component="ol" style={{ margin: 0, padding: 0 }}>
          {value.map((c, i) => (
            <ConditionRow key={i} index={i} condition={c} properties={items}
              onChange={(next) => onChange(value.map((old, j) => (j === i ? next : old)))}
              onRemove={() => onChange(value.filter((_, j) => j !== i))} />
          ))}
        </Stack>
      )}
      <Group>
        <Button variant="default" size="xs" disabled={items.length === 0}
          onClick={() => {
            const first = items[0];
            if (first !== undefined) onChange([...value, first.type === 'boolean' ? { property: first.property, operator: 'is', value: true } : { property: first.property, operator: 'is', value: '' }]);
          }}>Add condition</Button>
      </Group>
    </Stack>
  );
}

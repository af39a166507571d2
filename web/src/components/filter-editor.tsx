import { ActionIcon, Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';

export interface Condition {
  property: string;
  operator: 'is' | 'is_not' | 'is_any_of' | 'is_none_of' | 'is_known' | 'is_unknown' | 'contains' | 'starts_with';
  value?: string | number | boolean;
  values?: (string | number | boolean)[];
}

const OPERATOR_LABELS: Record<Condition['operator'], string> = {
  is: 'is', is_not: 'is not', is_any_of: 'is any of', is_none_of: 'is none of', is_known: 'is known', is_unknown: 'is unknown', contains: 'contains', starts_with: 'starts with',
};

function parse(type: string, text: string): string | number | boolean {
  if (type === 'id' || type === 'number') { const n = Number(text); return text.trim() !== '' && Number.isFinite(n) ? n : text; }
  if (type === 'boolean') return text === 'true';
  return text;
}

/** Conditions on contact or ticket properties; the API checks them (422 names the bad one). */
export function FilterEditor({ entity, value, onChange, label }: { entity: 'contacts' | 'tickets'; value: Condition[]; onChange: (c: Condition[]) => void; label: string }) {
  const properties = useQuery({ queryKey: ['filter-properties', entity], queryFn: () => call(api.GET('/api/v1/filter-properties/{entity}', { params: { path: { entity } } })), staleTime: 60_000 });
  const typeOf = (p: string) => properties.data?.items.find((i) => i.property === p)?.type ?? 'text';
  const set = (i: number, c: Condition) => onChange(value.map((old, j) => (j === i ? c : old)));
  return (
    <Stack gap="xs" role="group" aria-label={label}>
      <Text size="sm" fw={500}>{label}</Text>
      {value.length === 0 && <Text size="sm" c="dimmed">No conditions.</Text>}
      {value.map((c, i) => {
        const type = typeOf(c.property);
        const many = c.operator === 'is_any_of' || c.operator === 'is_none_of';
        const none = c.operator === 'is_known' || c.operator === 'is_unknown';
        const text = many ? (c.values ?? []).join(', ') : c.value === undefined ? '' : String(c.value);
        return (
          <Group key={i} gap="xs" align="flex-end" wrap="nowrap">
            <Select aria-label={`Condition ${i + 1} property`} data={(properties.data?.items ?? []).map((p) => p.property)} value={c.property} allowDeselect={false} searchable w={200}
              onChange={(p) => p !== null && set(i, { ...c, property: p })} />
            <Select aria-label={`Condition ${i + 1} operator`} data={Object.entries(OPERATOR_LABELS).map(([v, l]) => ({ value: v, label: l }))} value={c.operator} allowDeselect={false} w={140}
              onChange={(o) => {
                if (o === null) return;
                const op = o as Condition['operator'];
                const next: Condition = { property: c.property, operator: op };
                if (op === 'is_any_of' || op === 'is_none_of') next.values = text === '' ? [] : text.split(',').map((t) => parse(type, t.trim()));
                else if (op !== 'is_known' && op !== 'is_unknown') next.value = parse(type, text);
                set(i, next);
              }} />
            {!none && (
              <TextInput aria-label={`Condition ${i + 1} value`} placeholder={many ? 'values, comma separated' : 'value'} value={text} style={{ flex: 1 }}
                onChange={(e) => {
                  const t = e.currentTarget.value;
                  set(i, many ? { property: c.property, operator: c.operator, values: t.split(',').map((v) => v.trim()).filter((v) => v !== '').map((v) => parse(type, v)) } : { property: c.property, operator: c.operator, value: parse(type, t) });
                }} />
            )}
            <ActionIcon variant="default" size="lg" aria-label={`Remove condition ${i + 1}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>×</ActionIcon>
          </Group>
        );
      })}
      <Group>
        <Button variant="default" size="xs" onClick={() => onChange([...value, { property: properties.data?.items[0]?.property ?? 'status', operator: 'is', value: '' }])}>Add condition</Button>
      </Group>
    </Stack>
  );
}

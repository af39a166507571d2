import { Badge, Button, Grid, Group, Paper, Select, Stack, Switch, Text, TextInput, Textarea, Title, Typography, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { guarded } from '../components/guarded';
import { api, call, type Ok } from '../api/client';
import { FormCard } from '../components/form-card';
import { ErrorNotice, fieldError, Loaded } from '../components/notice';
import { usePageTitle } from '../components/page-title';
import { ALL_LANGUAGES, TranslationFields, translated, type TextTranslations } from '../components/translations';

type Article = Ok<'/api/v1/kb/articles/{id}'>;
type Category = Ok<'/api/v1/kb/categories'>['items'][number];
const route = getRouteApi('/kb');

/** The knowledge base (P24): categories and Markdown articles, drafts until published. */
export const KnowledgeBasePage = guarded('manage_settings', 'Editing the knowledge base', KnowledgeBaseScreen);

function KnowledgeBaseScreen() {
  usePageTitle('Knowledge base');
  const { article } = route.useSearch();
  const navigate = useNavigate({ from: '/kb' });
  const queryClient = useQueryClient();
  const categories = useQuery({ queryKey: ['kb-categories'], queryFn: () => call(api.GET('/api/v1/kb/categories')) });
  const [typed, setTyped] = useState('');
  const [q] = useDebouncedValue(typed.trim(), 250);
  const articles = useQuery({ queryKey: ['kb-articles', q], queryFn: () => call(api.GET('/api/v1/kb/articles', { params: { query: q === '' ? {} : { q } } })) });
  const [name, setName] = useState('');
  const createCategory = useMutation({
    mutationFn: () => call(api.POST('/api/v1/kb/categories', { body: { name } })),
    onSuccess: () => { setName(''); void queryClient.invalidateQueries({ queryKey: ['kb-categories'] }); },
  });
  const categoryName = (id: number) => categories.data?.items.find((c) => c.id === id)?.name ?? '';
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Knowledge base</Title>
        <Button onClick={() => void navigate({ search: { article: 'new' } })} disabled={(categories.data?.items.length ?? 0) === 0}>New article</Button>
      </Group>
      <Grid>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="sm">
            <TextInput label="Search articles" type="search" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} />
            <Loaded query={articles}>
              {(page) => (
                <Paper withBorder>
                  {page.items.length === 0 && <Text p="md" c="dimmed">No articles.</Text>}
                  {page.items.map((a) => (
                    <UnstyledButton key={a.id} className="thread-row" data-active={article === String(a.id)} w="100%" p="sm" style={{ borderBottom: '1px solid var(--mantine-color-gray-2)' }}
                      onClick={() => void navigate({ search: { article: String(a.id) } })}>
                      <Group justify="space-between" wrap="nowrap"><Text size="sm" fw={600} lineClamp={1}>{a.title}</Text>{!a.published && <Badge size="xs" color="gray">Draft</Badge>}</Group>
                      <Text size="xs" c="dimmed">{categoryName(a.categoryId)}</Text>
                    </UnstyledButton>
                  ))}
                </Paper>
              )}
            </Loaded>
            <FormCard title="New category" button="Create category" onSubmit={() => createCategory.mutate()} pending={createCategory.isPending} error={createCategory.error}>
              <TextInput label="Category name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(createCategory.error, 'name')} />
            </FormCard>
            <Loaded query={categories}>{(c) => (c.items.length === 0 ? null : <CategoryWords categories={c.items} />)}</Loaded>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          {article === undefined ? <Text c="dimmed">Choose an article, or write a new one.</Text> : (
            <Loaded query={categories}>{(c) => <ArticleEditor key={article} id={article === 'new' ? null : Number(article)} categories={c.items} />}</Loaded>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function ArticleEditor({ id, categories }: { id: number | null; categories: { id: number; name: string }[] }) {
  const existing = useQuery({ queryKey: ['kb-article', id], queryFn: () => call(api.GET('/api/v1/kb/articles/{id}', { params: { path: { id: id ?? 0 } } })), enabled: id !== null });
  if (id !== null) return <Loaded query={existing}>{(a) => <ArticleForm article={a} categories={categories} />}</Loaded>;
  return <ArticleForm article={null} categories={categories} />;
}

function ArticleForm({ article, categories }: { article: Article | null; categories: { id: number; name: string }[] }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate({ from: '/kb' });
  const [d, setD] = useState({ title: article?.title ?? '', categoryId: String(article?.categoryId ?? categories[0]?.id ?? ''), body: article?.body ?? '', published: article?.published ?? false });
  // Only what an author writes: the HTML of a translation is the server's.
  const [words, setWords] = useState<TextTranslations>(() => Object.fromEntries(Object.entries(article?.translations ?? {}).map(([l, t]) => [l, { title: t.title ?? '', body: t.body ?? '' }])));
  const save = useMutation({
    mutationFn: () => {
      const translations = Object.fromEntries(Object.keys(words).map((l) => [l, { title: translated(words, l, 'title'), body: translated(words, l, 'body') }]));
      const body = { title: d.title, categoryId: Number(d.categoryId), body: d.body, published: d.published, translations };
      return article === null ? call(api.POST('/api/v1/kb/articles', { body })) : call(api.PATCH('/api/v1/kb/articles/{id}', { params: { path: { id: article.id } }, body }));
    },
    onSuccess: (a) => {
      queryClient.setQueryData(['kb-article', a.id], a);
      void queryClient.invalidateQueries({ queryKey: ['kb-articles'] });
      if (article === null) void navigate({ search: { article: String(a.id) } });
    },
  });
  const shown = save.data ?? article;
  return (
    <Paper withBorder p="md">
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Stack gap="sm">
          <Title order={3} size="h4">{article === null ? 'New article' : 'Edit article'}</Title>
          <TextInput label="Title" required value={d.title} onChange={(e) => setD({ ...d, title: e.currentTarget.value })} error={fieldError(save.error, 'title')} />
          <Select label="Category" data={categories.map((c) => ({ value: String(c.id), label: c.name }))} value={d.categoryId} allowDeselect={false} onChange={(v) => setD({ ...d, categoryId: v ?? d.categoryId })} />
          <Textarea className="code-editor" label="Text (Markdown)" required autosize minRows={10} maxRows={30} value={d.body} onChange={(e) => setD({ ...d, body: e.currentTarget.value })} error={fieldError(save.error, 'body')} />
          <TranslationFields languages={ALL_LANGUAGES} value={words} onChange={setWords}
            fields={[{ key: 'title', label: 'Title', primary: d.title }, { key: 'body', label: 'Text (Markdown)', primary: d.body.slice(0, 200), long: true }]} />
          <Switch label="Published (customers see it on every portal’s knowledge base)" checked={d.published} onChange={(e) => setD({ ...d, published: e.currentTarget.checked })} />
          <ErrorNotice error={save.error} title="Not saved" />
          {save.isSuccess && <Text size="sm" c="teal.9" role="status">Saved.</Text>}
          <Group><Button type="submit" loading={save.isPending}>Save article</Button></Group>
          {shown !== null && (
            <Stack gap={4}>
              <Text size="sm" fw={600}>As customers see it{shown.published ? '' : ' once published'}{shown.slug === '' ? '' : ` (/kb/${shown.slug})`}</Text>
              {/* The API renders the Markdown and sanitises it when saved. */}
              <Paper withBorder p="sm" bg="gray.0"><Typography><div dangerouslySetInnerHTML={{ __html: shown.html }} /></Typography></Paper>
            </Stack>
          )}
        </Stack>
      </form>
    </Paper>
  );
}

/** A category's name and description in other languages, one category at a time. */
function CategoryWords({ categories }: { categories: Category[] }) {
  const queryClient = useQueryClient();
  const [id, setId] = useState(String(categories[0]?.id ?? ''));
  const category = categories.find((c) => String(c.id) === id);
  return (
    <Paper withBorder p="md" maw={480}>
      <Stack gap="xs">
        <Title order={3} size="h4">Categories in other languages</Title>
        <Select label="Category to translate" data={categories.map((c) => ({ value: String(c.id), label: c.name }))} value={id} allowDeselect={false} onChange={(v) => setId(v ?? id)} />
        {category !== undefined && <CategoryWordsForm key={category.id} category={category} onSaved={() => void queryClient.invalidateQueries({ queryKey: ['kb-categories'] })} />}
      </Stack>
    </Paper>
  );
}

function CategoryWordsForm({ category, onSaved }: { category: Category; onSaved: () => void }) {
  const [words, setWords] = useState<TextTranslations>(category.translations);
  const save = useMutation({
    mutationFn: () => call(api.PATCH('/api/v1/kb/categories/{id}', { params: { path: { id: category.id } }, body: {
      translations: Object.fromEntries(Object.keys(words).map((l) => [l, { name: translated(words, l, 'name'), description: translated(words, l, 'description') }])),
    } })),
    onSuccess: onSaved,
  });
  return (
    <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <Stack gap="xs">
        <TranslationFields languages={ALL_LANGUAGES} value={words} onChange={setWords}
          fields={[{ key: 'name', label: 'Name', primary: category.name }, { key: 'description', label: 'Description', primary: category.description ?? '', long: true }]} />
        <ErrorNotice error={save.error} title="Not saved" />
        {save.isSuccess && <Text size="sm" c="teal.9" role="status">Saved.</Text>}
        <Group><Button type="submit" variant="default" loading={save.isPending}>Save category</Button></Group>
      </Stack>
    </form>
  );
}

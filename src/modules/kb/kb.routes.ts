import { Type, type Static } from 'typebox';
import { Id, IdParams, Line, Nullable, Timestamp, iso, problemResponses } from '../../http/common-schemas.js';
import type { App } from '../../http/types.js';
import type { ArticleRow, CategoryRow, KnowledgeBaseService } from './kb.service.js';
import { presentTranslations, Translations } from '../i18n/admin-text.js';

const Slug = Type.String({ minLength: 1, maxLength: 80, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', 'x-hint': 'Use lower-case letters, digits and hyphens, like getting-started.' });

const CategoryTranslations = Translations(Type.Object(
  { name: Type.Optional(Line({ minLength: 0, maxLength: 120 })), description: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
), 'The category’s name and description');
const Category = Type.Object({ id: Type.Integer(), name: Type.String(), slug: Type.String(), description: Nullable(Type.String()), position: Type.Integer(), translations: CategoryTranslations, createdAt: Timestamp, updatedAt: Timestamp });
const CategoryCreate = Type.Object(
  { name: Line({ maxLength: 120 }), slug: Type.Optional(Slug), description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))), position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })), translations: Type.Optional(CategoryTranslations) },
  { additionalProperties: false },
);
const CategoryUpdate = Type.Object(
  { name: Type.Optional(Line({ maxLength: 120 })), slug: Type.Optional(Slug), description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))), position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })), translations: Type.Optional(CategoryTranslations) },
  { additionalProperties: false, minProperties: 1 },
);
const Article = Type.Object({
  id: Type.Integer(), categoryId: Type.Integer(), title: Type.String(), slug: Type.String(), body: Type.String({ description: 'Markdown, as written' }),
  html: Type.String({ description: 'The Markdown rendered and sanitised, as the portal shows it' }), published: Type.Boolean(),
  translations: Translations(Type.Object({
    title: Type.Optional(Type.String()),
    body: Type.Optional(Type.String({ description: 'Markdown, as written' })),
    html: Type.Optional(Type.String({ description: 'The translated Markdown rendered and sanitised, as the portal shows it' })),
  }), 'The article’s title and text'),
  createdAt: Timestamp, updatedAt: Timestamp,
});
const Body = Type.String({ minLength: 1, maxLength: 200_000, description: 'Markdown; raw HTML that could run is removed' });
const ArticleTranslations = Translations(Type.Object(
  { title: Type.Optional(Line({ minLength: 0, maxLength: 200 })), body: Type.Optional(Type.String({ maxLength: 200_000, description: 'Markdown; raw HTML that could run is removed' })) },
  { additionalProperties: false },
), 'The article’s title and text');
const ArticleCreate = Type.Object(
  { categoryId: Id, title: Line({ maxLength: 200 }), slug: Type.Optional(Slug), body: Body, published: Type.Optional(Type.Boolean()), translations: Type.Optional(ArticleTranslations) },
  { additionalProperties: false },
);
const ArticleUpdate = Type.Object(
  { categoryId: Type.Optional(Id), title: Type.Optional(Line({ maxLength: 200 })), slug: Type.Optional(Slug), body: Type.Optional(Body), published: Type.Optional(Type.Boolean()), translations: Type.Optional(ArticleTranslations) },
  { additionalProperties: false, minProperties: 1 },
);
const ArticleQuery = Type.Object(
  { q: Type.Optional(Type.String({ maxLength: 200 })), categoryId: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) },
  { additionalProperties: false },
);

function presentCategory(row: CategoryRow): Static<typeof Category> {
  return { id: row.id, name: row.name, slug: row.slug, description: row.description, position: row.position, translations: presentTranslations(row.translations), createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}
function presentArticle(row: ArticleRow): Static<typeof Article> {
  return { id: row.id, categoryId: row.category_id, title: row.title, slug: row.slug, body: row.body_markdown, html: row.body_html, published: row.published === 1, translations: presentTranslations(row.translations), createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}

/** The knowledge base through the API (C8): staff read it; staff who manage settings write it. */
export function kbRoutes(app: App, { kb }: { kb: KnowledgeBaseService }): void {
  const tags = ['knowledge base'];
  const noContent = { 204: Type.Null(), ...problemResponses };

  app.get('/api/v1/kb/categories', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List knowledge base categories, in order', response: { 200: Type.Object({ items: Type.Array(Category), nextCursor: Type.Null() }), ...problemResponses } },
  }, async () => ({ items: (await kb.categories()).map(presentCategory), nextCursor: null }));

  app.post('/api/v1/kb/categories', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Create a category (its slug from the name unless given)', body: CategoryCreate, response: { 201: Category, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentCategory(await kb.createCategory(request.body))));

  app.patch('/api/v1/kb/categories/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Change a category', params: IdParams, body: CategoryUpdate, response: { 200: Category, ...problemResponses } },
  }, async (request) => presentCategory(await kb.updateCategory(request.params.id, request.body)));

  app.delete('/api/v1/kb/categories/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Delete an empty category', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await kb.deleteCategory(request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/api/v1/kb/articles', {
    config: { access: 'staff' },
    schema: { tags, summary: 'List or search articles (published or not)', querystring: ArticleQuery, response: { 200: Type.Object({ items: Type.Array(Article), nextCursor: Type.Null() }), ...problemResponses } },
  }, async (request) => ({
    items: (await kb.articles({ publishedOnly: false, limit: request.query.limit ?? 50, ...(request.query.q === undefined ? {} : { query: request.query.q }), ...(request.query.categoryId === undefined ? {} : { categoryId: request.query.categoryId }) })).map(presentArticle),
    nextCursor: null,
  }));

  app.get('/api/v1/kb/articles/:id', {
    config: { access: 'staff' },
    schema: { tags, summary: 'Get an article', params: IdParams, response: { 200: Article, ...problemResponses } },
  }, async (request) => presentArticle(await kb.article(request.params.id)));

  app.post('/api/v1/kb/articles', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Write an article in Markdown (a draft unless published)', body: ArticleCreate, response: { 201: Article, ...problemResponses } },
  }, async (request, reply) => reply.code(201).send(presentArticle(await kb.createArticle(request.body))));

  app.patch('/api/v1/kb/articles/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Change, publish or unpublish an article', params: IdParams, body: ArticleUpdate, response: { 200: Article, ...problemResponses } },
  }, async (request) => presentArticle(await kb.updateArticle(request.params.id, request.body)));

  app.delete('/api/v1/kb/articles/:id', {
    config: { access: 'manage_settings' },
    schema: { tags, summary: 'Delete an article', params: IdParams, response: noContent },
  }, async (request, reply) => {
    await kb.deleteArticle(request.params.id);
    return reply.code(204).send(null);
  });
}

import { marked } from 'marked';
import { sql, type SqlBool } from 'kysely';
import type { Conn } from '../../db/database.js';
import { PreparedQuery } from '../../db/prepared.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { Row } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import { fts5Query, parseSearchQuery, searchDocument, searchWords, tsQuery } from '../../util/search-text.js';
import { htmlToText, sanitizeMessageHtml } from '../conversations/html.js';
import { checkLanguages, readTranslations, storeTranslations, textIn } from '../i18n/admin-text.js';
import type { Language } from '../i18n/catalogue.js';

export type CategoryRow = Row<'kb_categories'>;
export type ArticleRow = Row<'kb_articles'>;

/** A URL slug from a title: lower-case ASCII letters and digits joined by hyphens. */
export function slugify(text: string): string {
  const slug = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().replace(/ł/g, 'l').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80).replace(/-+$/, '');
  return slug === '' ? 'article' : slug;
}

/** Markdown as an author wrote it, as HTML a visitor may see: rendered, then sanitised (no script, no raw HTML that runs). */
export function renderMarkdown(markdown: string): string {
  return sanitizeMessageHtml(marked.parse(markdown, { async: false, gfm: true, breaks: false }));
}

/** An article's title and text by language code, as the API takes them. */
type ArticleTranslations = Record<string, { title?: string; body?: string }>;
type CategoryTranslations = Record<string, { name?: string; description?: string }>;

/** Article translations as stored: each body rendered and sanitised exactly like the article's own. */
function storeArticleTranslations(translations: ArticleTranslations): string | null {
  checkLanguages(translations);
  const rendered = Object.fromEntries(Object.entries(translations).map(([language, t]) => {
    const body = t.body === undefined || t.body.trim() === '' ? undefined : t.body;
    return [language, { ...(t.title === undefined ? {} : { title: t.title }), ...(body === undefined ? {} : { body, html: renderMarkdown(body) }) }];
  }));
  return storeTranslations(rendered);
}

/** The words an article is found by: its title and text, and those of every translation. */
function articleSearchDocument(title: string, html: string, translations: string | null): string {
  const parts = [title, htmlToText(html)];
  for (const t of Object.values(readTranslations(translations))) {
    if (typeof t.title === 'string') parts.push(t.title);
    if (typeof t.html === 'string') parts.push(htmlToText(t.html));
  }
  return searchDocument(parts);
}

/** An article as a visitor reading `language` sees it: its translation where there is one. */
export function articleIn(row: ArticleRow, language: Language): { title: string; html: string } {
  const all = readTranslations(row.translations);
  // The text and its HTML go together: a translated body, or the article's own.
  const translated = textIn(all, language, 'body', null) !== null;
  return { title: textIn(all, language, 'title', row.title), html: translated ? textIn(all, language, 'html', row.body_html) : row.body_html };
}

/** A category as a visitor reading `language` sees it. */
export function categoryIn(row: CategoryRow, language: Language): { name: string; description: string | null } {
  const all = readTranslations(row.translations);
  return { name: textIn(all, language, 'name', row.name), description: textIn(all, language, 'description', row.description) };
}

/**
 * The knowledge base (C8, P24): categories and articles in Markdown, stored with their sanitised
 * HTML and a search document, searched by the same word index as tickets. Only published
 * articles are ever shown on a portal.
 */
/** The most read published articles: on every portal home, so compiled once. */
const popularArticles = new PreparedQuery((db: Conn, a: { limit: number }) =>
  db.selectFrom('kb_articles').selectAll().where('published', '=', sql.lit(1))
    .orderBy('views', 'desc').orderBy('title').orderBy('id').limit(a.limit));

export class KnowledgeBaseService {
  constructor(private readonly deps: Deps) {}

  categories(): Promise<CategoryRow[]> {
    return this.deps.db.selectFrom('kb_categories').selectAll().orderBy('position').orderBy('name').orderBy('id').execute();
  }

  async category(id: number, db: Conn = this.deps.db): Promise<CategoryRow> {
    const row = await db.selectFrom('kb_categories').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw errors.notFound('category');
    return row;
  }

  private slugTaken(error: unknown, what: string): never {
    if (isUniqueViolation(error)) throw errors.conflict('SLUG_TAKEN', `Another ${what} has this slug.`);
    throw error;
  }

  async createCategory(input: { name: string; slug?: string; description?: string | null; position?: number; translations?: CategoryTranslations }): Promise<CategoryRow> {
    checkLanguages(input.translations);
    const now = this.deps.clock.now();
    try {
      return await this.deps.db.insertInto('kb_categories').values({
        name: input.name, slug: input.slug ?? slugify(input.name), description: input.description ?? null, position: input.position ?? 0,
        translations: storeTranslations(input.translations), created_at: now, updated_at: now,
      }).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      return this.slugTaken(error, 'category');
    }
  }

  async updateCategory(id: number, patch: { name?: string; slug?: string; description?: string | null; position?: number; translations?: CategoryTranslations }): Promise<CategoryRow> {
    checkLanguages(patch.translations);
    await this.category(id);
    const { translations, ...rest } = patch;
    try {
      return await this.deps.db.updateTable('kb_categories').set({ ...rest, ...(translations === undefined ? {} : { translations: storeTranslations(translations) }), updated_at: this.deps.clock.now() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      return this.slugTaken(error, 'category');
    }
  }

  async deleteCategory(id: number): Promise<void> {
    await this.category(id);
    if ((await this.deps.db.selectFrom('kb_articles').select('id').where('category_id', '=', id).executeTakeFirst()) !== undefined) {
      throw errors.conflict('CATEGORY_IN_USE', 'Articles are in this category; move or delete them first.');
    }
    await this.deps.db.deleteFrom('kb_categories').where('id', '=', id).execute();
  }

  async article(id: number, db: Conn = this.deps.db): Promise<ArticleRow> {
    const row = await db.selectFrom('kb_articles').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw errors.notFound('article');
    return row;
  }

  /** A published article by its slug, for the portal; undefined otherwise. */
  publishedBySlug(slug: string): Promise<ArticleRow | undefined> {
    return this.deps.db.selectFrom('kb_articles').selectAll().where('slug', '=', slug).where('published', '=', 1).executeTakeFirst();
  }

  /** The most read published articles (the portal home's popular articles), ties by title. */
  popular(limit: number): Promise<ArticleRow[]> {
    return popularArticles.execute(this.deps.db, { limit });
  }

  /** One reading of an article on a portal. */
  async countView(id: number): Promise<void> {
    await this.deps.db.updateTable('kb_articles').set((eb) => ({ views: eb('views', '+', 1) })).where('id', '=', id).execute();
  }

  private async requireCategory(db: Conn, categoryId: number): Promise<void> {
    if ((await db.selectFrom('kb_categories').select('id').where('id', '=', categoryId).executeTakeFirst()) === undefined) {
      throw errors.unprocessable('CATEGORY_NOT_FOUND', 'The category does not exist.', [{ path: '/body/categoryId', message: `There is no category ${categoryId}: choose one that exists.` }]);
    }
  }

  async createArticle(input: { categoryId: number; title: string; slug?: string; body: string; published?: boolean; translations?: ArticleTranslations }): Promise<ArticleRow> {
    const translations = storeArticleTranslations(input.translations ?? {});
    await this.requireCategory(this.deps.db, input.categoryId);
    const html = renderMarkdown(input.body);
    const now = this.deps.clock.now();
    try {
      return await this.deps.db.insertInto('kb_articles').values({
        category_id: input.categoryId, title: input.title, slug: input.slug ?? slugify(input.title), body_markdown: input.body, body_html: html, translations,
        search_doc: articleSearchDocument(input.title, html, translations), published: input.published === true ? 1 : 0, created_at: now, updated_at: now,
      }).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      return this.slugTaken(error, 'article');
    }
  }

  async updateArticle(id: number, patch: { categoryId?: number; title?: string; slug?: string; body?: string; published?: boolean; translations?: ArticleTranslations }): Promise<ArticleRow> {
    const translations = patch.translations === undefined ? undefined : storeArticleTranslations(patch.translations);
    const current = await this.article(id);
    if (patch.categoryId !== undefined) await this.requireCategory(this.deps.db, patch.categoryId);
    const title = patch.title ?? current.title;
    const html = patch.body === undefined ? current.body_html : renderMarkdown(patch.body);
    try {
      return await this.deps.db.updateTable('kb_articles').set({
        ...(patch.categoryId === undefined ? {} : { category_id: patch.categoryId }),
        ...(patch.slug === undefined ? {} : { slug: patch.slug }),
        ...(patch.published === undefined ? {} : { published: patch.published ? 1 : 0 }),
        ...(patch.body === undefined ? {} : { body_markdown: patch.body, body_html: html }),
        ...(translations === undefined ? {} : { translations }),
        title, search_doc: articleSearchDocument(title, html, translations === undefined ? current.translations : translations), updated_at: this.deps.clock.now(),
      }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      return this.slugTaken(error, 'article');
    }
  }

  async deleteArticle(id: number): Promise<void> {
    const r = await this.deps.db.deleteFrom('kb_articles').where('id', '=', id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw errors.notFound('article');
  }

  /**
   * Published articles for what a customer is typing (a new ticket's subject): any of its words
   * of three letters or more (the last one may be unfinished), the articles holding more of
   * them, and more often, first.
   */
  async suggest(text: string, limit: number): Promise<ArticleRow[]> {
    const words = [...new Set(searchWords(text))].filter((w) => w.length >= 3).slice(0, 8);
    if (words.length === 0) return [];
    const last = words.length - 1;
    if (this.deps.dialect === 'postgres') {
      const query = words.map((w, i) => (i === last ? `'${w}':*` : `'${w}'`)).join(' | ');
      return this.deps.db.selectFrom('kb_articles as a').selectAll('a').where('a.published', '=', 1)
        .where(sql<SqlBool>`a.tsv @@ cast(${query} as tsquery)`)
        .orderBy(sql`ts_rank(a.tsv, cast(${query} as tsquery))`, 'desc').orderBy('a.id').limit(limit).execute();
    }
    const match = words.map((w, i) => `"${w}"${i === last ? '*' : ''}`).join(' OR ');
    return this.deps.db.selectFrom('kb_articles as a').innerJoin(sql<{ rowid: number; rank: number }>`(select rowid, rank from kb_articles_fts where kb_articles_fts match ${match})`.as('f'), 'f.rowid', 'a.id')
      .selectAll('a').where('a.published', '=', 1).orderBy('f.rank').orderBy('a.id').limit(limit).execute();
  }

  /**
   * Articles, newest change first within their category's order; with `query`, only those whose
   * title or text holds every word (the last one as a prefix); `publishedOnly` for the portal.
   */
  async articles(options: { query?: string; categoryId?: number; publishedOnly: boolean; limit: number }): Promise<ArticleRow[]> {
    let q = this.deps.db.selectFrom('kb_articles as a').selectAll('a');
    if (options.publishedOnly) q = q.where('a.published', '=', 1);
    if (options.categoryId !== undefined) q = q.where('a.category_id', '=', options.categoryId);
    if (options.query !== undefined) {
      const parsed = parseSearchQuery(options.query);
      if (parsed === null) return [];
      q = q.where(this.deps.dialect === 'postgres'
        ? sql<SqlBool>`a.tsv @@ cast(${tsQuery(parsed)} as tsquery)`
        : sql<SqlBool>`a.id in (select rowid from kb_articles_fts where kb_articles_fts match ${fts5Query(parsed)})`);
    }
    return q.orderBy('a.title').orderBy('a.id').limit(options.limit).execute();
  }
}

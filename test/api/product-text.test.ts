import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestApp, dialects, type TestApp } from '../helpers/test-app.js';

/**
 * Requirement ids (P18, C5, X12: /work/shared/REQUIREMENTS.md) name what a test covers; people
 * using Portico never read them. Comments and tests may hold them; product text may not: the
 * API's summaries and descriptions, the portal's catalogues and default templates (pages and
 * emails), the staff app's words and the command line's help.
 */
const REQUIREMENT_ID = /\b[PCX][0-9]{1,2}\b/;
const root = join(import.meta.dirname, '..', '..');

function files(dir: string, ends: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, ends);
    return ends.test(name) ? [path] : [];
  });
}

/** The text of a TypeScript file's string literals and JSX text, without its comments. */
function literals(path: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, path.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node) || ts.isJsxText(node)) {
      // Import paths and the like are no text a person reads, but cost nothing to check.
      out.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Every summary, description and title in the OpenAPI document, with where it is. */
function documentation(node: unknown, where: string, out: { where: string; text: string }[]): void {
  if (Array.isArray(node)) {
    node.forEach((n, i) => { documentation(n, `${where}/${i}`, out); });
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (['summary', 'description', 'title', 'x-hint'].includes(key) && typeof value === 'string') out.push({ where: `${where}/${key}`, text: value });
    else documentation(value, `${where}/${key}`, out);
  }
}

describe.each(dialects)('product text on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    await t.close();
  });

  test('C9 the OpenAPI document’s summaries and descriptions name no requirement id', () => {
    const texts: { where: string; text: string }[] = [];
    documentation(t.app.swagger(), '#', texts);
    expect(texts.length).toBeGreaterThan(100);
    expect(texts.filter((x) => REQUIREMENT_ID.test(x.text)).map((x) => `${x.where}: ${x.text}`)).toEqual([]);
  });
});

describe('product text in files', () => {
  test('X1 the portal’s catalogues and default templates (pages and emails) name no requirement id', () => {
    const found: string[] = [];
    const catalogues = files(join(root, 'locales'), /\.json$/);
    expect(catalogues.length).toBeGreaterThanOrEqual(2);
    for (const path of catalogues) {
      for (const [key, value] of Object.entries(JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>)) {
        if (REQUIREMENT_ID.test(value)) found.push(`${relative(root, path)} ${key}: ${value}`);
      }
    }
    const templates = files(join(root, 'themes', 'default'), /\.(liquid|css)$/);
    expect(templates.length).toBeGreaterThan(10);
    for (const path of templates) {
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        if (REQUIREMENT_ID.test(line)) found.push(`${relative(root, path)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });

  test('C5 the staff app’s words and the command line’s help name no requirement id (comments may)', () => {
    const sources = [...files(join(root, 'web', 'src'), /\.tsx?$/).filter((p) => !p.endsWith('.d.ts')), join(root, 'src', 'main.ts')];
    expect(sources.length).toBeGreaterThan(20);
    const found = sources.flatMap((path) => literals(path).filter((l) => REQUIREMENT_ID.test(l.text)).map((l) => `${relative(root, path)}:${l.line}: ${l.text.trim()}`));
    expect(found).toEqual([]);
  });
});

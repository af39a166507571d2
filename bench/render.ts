/**
 * How fast the portal's ticket list renders, 25 rows, through LiquidJS's renderSync and through
 * the compiled closures (src/modules/portal/liquid-compiler.ts), alternating in the same run;
 * and through the closures within the template limits, as a portal's own copy of the page
 * renders (src/modules/portal/template-limits.ts). Part of `npm run bench`.
 */
import { Theme } from '../src/modules/portal/theme.js';
import type { PortalRow } from '../src/modules/portal/portals.service.js';
import { Translator } from '../src/modules/i18n/translator.js';

const translator = new Translator('en', 'UTC');

const portal = { id: 1, name: 'Acme Help', title: 'Acme · your tickets', slug: 'acme', language: 'en', branding: '{}' } as unknown as PortalRow;
const date = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' });
const tickets = Array.from({ length: 25 }, (_, i) => {
  const created = Date.UTC(2025, 0, 1) + i * 86_400_000;
  return {
    id: 1000 + i,
    subject: `Printer on floor ${i} says "PC LOAD LETTER" & won't <print>`,
    created_at: new Date(created).toISOString(),
    created: date.format(created),
    last_activity_at: new Date(created + 3_600_000).toISOString(),
    last_activity: date.format(created + 3_600_000),
    state: i % 3 === 0 ? 'closed' : 'open',
    status: i % 3 === 0 ? 'Closed' : 'Open',
  };
});
const context = {
  page_title: portal.title, tickets, view: 'mine', company_scope: true,
  filters: { view: 'mine', status: 'all', q: '', sort: '-lastActivity' },
  next_page: '/acme?cursor=eyJpZCI6MTAyNH0', view_links: { mine: '/acme?view=mine', organization: '/acme?view=organization' },
  member: { name: 'Cora Customer' }, csrf: 'b64csrftokenvalue0123456789',
};

export interface RenderSpeed {
  liquidPerSecond: number;
  compiledPerSecond: number;
  /** A portal's own copy of the default templates: compiled, and counted against the limits. */
  limitedPerSecond: number;
}

function rate(theme: Theme, ms: number): number {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) theme.render('tickets', portal, context, translator);
    n += 50;
  }
  return n / (ms / 1000);
}

/** Medians of five alternating one-second runs, after a warm-up of each. */
export function measureRender(): RenderSpeed {
  const liquid = new Theme(undefined, { compile: false });
  const compiled = new Theme();
  const limited = new Theme(undefined, { sources: {} });
  if (!compiled.compiledPages.includes('tickets') || !limited.compiledPages.includes('tickets')) throw new Error('the tickets page did not compile');
  const page = liquid.render('tickets', portal, context, translator);
  if (page !== compiled.render('tickets', portal, context, translator) || page !== limited.render('tickets', portal, context, translator)) throw new Error('LiquidJS and the compiled page differ');
  rate(liquid, 500);
  rate(compiled, 500);
  rate(limited, 500);
  const runs: RenderSpeed[] = [];
  for (let i = 0; i < 5; i++) runs.push({ liquidPerSecond: rate(liquid, 1000), compiledPerSecond: rate(compiled, 1000), limitedPerSecond: rate(limited, 1000) });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return {
    liquidPerSecond: median(runs.map((r) => r.liquidPerSecond)),
    compiledPerSecond: median(runs.map((r) => r.compiledPerSecond)),
    limitedPerSecond: median(runs.map((r) => r.limitedPerSecond)),
  };
}

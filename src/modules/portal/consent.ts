import sanitizeHtml from 'sanitize-html';
import { escape } from './liquid-runtime.js';

/**
 * The admin's consent notice as HTML for the register page (P29): plain text whose blank lines
 * make paragraphs, whose `[words](https://…)` and bare https:// addresses become links, and
 * nothing else. The text is escaped first and the result is sanitised again, so no markup an
 * admin (or anyone with their password) writes can run on the page.
 */
export function consentHtml(text: string): string {
  const link = (href: string, label: string) => `<a href="${href}" rel="noopener noreferrer" target="_blank">${label}</a>`;
  const paragraphs = text.trim().split(/\n\s*\n/).map((paragraph) => {
    const escaped = escape(paragraph.trim());
    const linked = escaped
      .replace(/\[([^\]\n]{1,200})\]\((https:\/\/[^\s()<>"]{1,2000})\)/g, (_m, label: string, href: string) => link(href, label))
      .replace(/(^|[\s(])(https:\/\/[^\s()<>"]{1,2000}?)(?=[.,;:!?]?(?:\s|$|\)))/g, (_m, before: string, href: string) => `${before}${link(href, href)}`);
    return `<p>${linked.replace(/\n/g, '<br>')}</p>`;
  });
  return sanitizeHtml(paragraphs.join('\n'), {
    allowedTags: ['p', 'br', 'a'],
    allowedAttributes: { a: ['href', 'rel', 'target'] },
    allowedSchemes: ['https'],
    allowProtocolRelative: false,
  });
}

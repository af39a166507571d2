import { errors } from '../../errors.js';
import { SOURCE_LIMITS, TemplateLimitError, TemplateTooLarge, limitError, type LimitName } from './template-limits.js';

/** What an admin reads when a template does too much: what happened, and the likely cause. */
const LIMIT_MESSAGES: Record<LimitName, string> = {
  steps: 'This template takes too long to show: a loop repeats too many times.',
  time: 'This template takes too long to show (a loop that repeats too many times, or works through very long text?).',
  memory: 'This template builds too much text or too long a list (a range such as (1..1000000), or text added to itself in a loop?).',
  output: 'This template prints too much (a loop that prints a lot, or text captured and added to itself?).',
};

const number = new Intl.NumberFormat('en');

function tooLarge(error: TemplateTooLarge): string {
  const which = `The ${error.template} template`;
  return error.limit === 'characters'
    ? `${which} is longer than ${number.format(SOURCE_LIMITS.characters)} characters.`
    : `${which} holds more than ${number.format(SOURCE_LIMITS.tags)} tags and outputs ({% %} and {{ }}); a page needs far fewer.`;
}

function at(line: number | undefined, column: number | undefined, message: string): string {
  return line === undefined ? message : `line ${line}, column ${column ?? 1}: ${message}`;
}

/**
 * A template refused (P11, P21), as a 400 on `/body/source`: while parsing (`page` undefined) or
 * rendering `page` with sample data. A limit reached says so in plain words with the line of its
 * tag; anything else in LiquidJS's own words, with its line and column.
 */
export function templateError(error: unknown, page?: string) {
  const what = page === undefined ? 'does not parse' : `does not render the ${page} page with sample data`;
  if (error instanceof TemplateTooLarge) return errors.validation([{ path: '/body/source', message: tooLarge(error) }], 'The template is too large.');
  const limit = error instanceof TemplateLimitError ? error : limitError(error);
  if (limit !== undefined) {
    const title = page === undefined ? 'The template does too much work.' : `The template does too much work to show the ${page} page with sample data.`;
    return errors.validation([{ path: '/body/source', message: at(limit.line, limit.column, LIMIT_MESSAGES[limit.limit]) }], title);
  }
  // The stack ran out: a template that includes itself, or nests tags without end.
  if (error instanceof RangeError || (error as { originalError?: unknown }).originalError instanceof RangeError) {
    return errors.validation([{ path: '/body/source', message: 'This template includes itself, or nests tags too deeply.' }], `The template ${what}.`);
  }
  const e = error as { message?: string; token?: { getPosition?: () => [number, number] } };
  const position = typeof e.token?.getPosition === 'function' ? e.token.getPosition() : undefined;
  const message = (e.message ?? String(error)).replace(/, line:\d+, col:\d+$/, '').slice(0, 300);
  return errors.validation([{ path: '/body/source', message: position === undefined ? message : at(position[0], position[1], message) }], `The template ${what}.`);
}

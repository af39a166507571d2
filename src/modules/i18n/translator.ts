import { catalogue, formatCompiled, REFERENCE_LANGUAGE, type Compiled, type Language } from './catalogue.js';

/**
 * Everything a page or an email needs to speak one language in one time zone: messages (the
 * portal's overrides first, then the catalogue), dates, numbers and sizes by Intl.
 */
export class Translator {
  private readonly messages: ReadonlyMap<string, Compiled>;
  private dayLabel: ((ms: number) => string) | undefined;

  constructor(
    readonly language: Language,
    readonly timeZone: string,
    private readonly overrides: ReadonlyMap<string, Compiled> = new Map(),
  ) {
    this.messages = catalogue(language).compiled;
  }

  /**
   * The message `key` with `values`. A message that cannot be formatted (a template passing the
   * wrong values) falls back to the catalogue's, then to English, then to the key itself: a page
   * never fails for want of a string.
   */
  t(key: string, values?: Record<string, unknown>): string {
    const compiled = this.overrides.get(key) ?? this.messages.get(key);
    if (compiled !== undefined) {
      try {
        return formatCompiled(compiled, values);
      } catch {
        // Fall back below.
      }
    }
    for (const fallback of [this.messages.get(key), catalogue(REFERENCE_LANGUAGE).compiled.get(key)]) {
      if (fallback === undefined || fallback === compiled) continue;
      try {
        return formatCompiled(fallback, values);
      } catch {
        // Try the next source.
      }
    }
    return key;
  }

  /** A date without a time, as lists show it: "25 Nov 2026", "25 lis 2026". */
  date(ms: number): string {
    this.dayLabel ??= dayLabels(this.language, this.timeZone);
    return this.dayLabel(ms);
  }

  /** A date with its time of day. */
  dateTime(ms: number): string {
    return dateFormat(this.language, this.timeZone, true).format(ms);
  }

  /** A file's size: "512 byte", "1.5 kB", "2,3 MB". */
  fileSize(bytes: number): string {
    const [unit, value] = bytes < 1024 ? ['byte', bytes] as const : bytes < 1024 * 1024 ? ['kilobyte', bytes / 1024] as const : ['megabyte', bytes / (1024 * 1024)] as const;
    return numberFormat(this.language, unit).format(value);
  }
}

/** Building an Intl formatter takes longer than rendering a page's dates: one per language, zone and style. */
const formats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(language: string, timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${language}|${timeZone}|${withTime ? 'datetime' : 'date'}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(language, withTime ? { dateStyle: 'medium', timeStyle: 'short', timeZone } : { dateStyle: 'medium', timeZone });
    if (formats.size >= 1000) formats.clear();
    formats.set(key, format);
  }
  return format;
}

const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(language: string, unit: 'byte' | 'kilobyte' | 'megabyte'): Intl.NumberFormat {
  const key = `${language}|${unit}`;
  let format = numberFormats.get(key);
  if (format === undefined) {
    // Bytes in words ("22 bytes", "22 bajty": the short form reads "22 byte" in English), larger units short ("2.5 kB").
    format = new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: unit === 'byte' ? 'long' : 'short', maximumFractionDigits: 1 });
    numberFormats.set(key, format);
  }
  return format;
}

/**
 * A list shows dates without times, and many rows share a day: each label is formatted once
 * per language and zone. Keyed by the quarter hour, because every zone's offset today is a
 * whole number of quarter hours, so one quarter hour never spans two local days.
 */
const QUARTER_HOUR = 15 * 60_000;
const dayLabelCache = new Map<string, Map<number, string>>();
function dayLabels(language: string, timeZone: string): (ms: number) => string {
  const key = `${language}|${timeZone}`;
  let labels = dayLabelCache.get(key);
  if (labels === undefined) {
    if (dayLabelCache.size >= 1000) dayLabelCache.clear();
    labels = new Map();
    dayLabelCache.set(key, labels);
  }
  const cache = labels;
  const format = dateFormat(language, timeZone, false);
  return (ms) => {
    const slot = Math.floor(ms / QUARTER_HOUR);
    let label = cache.get(slot);
    if (label === undefined) {
      label = format.format(ms);
      if (cache.size >= 50_000) cache.clear();
      cache.set(slot, label);
    }
    return label;
  };
}

/**
 * The canonical name of an IANA zone Intl knows (europe/warsaw becomes Europe/Warsaw), or
 * undefined. Offsets such as +01:00 are not taken: a name follows its zone's daylight saving.
 */
export function canonicalTimeZone(zone: string): string | undefined {
  if (zone.length === 0 || zone.length > 64 || !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

import { domainToASCII } from 'node:url';
import type { DKIMResult, DKIMVerifyResult, DMARCResult, SPFResult } from 'mailauth';

export const SPF_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'unchecked'] as const;
export const DKIM_RESULTS = ['pass', 'fail', 'neutral', 'none', 'temperror', 'permerror', 'policy'] as const;
export const DMARC_RESULTS = ['pass', 'fail', 'none', 'temperror', 'permerror'] as const;
export const DMARC_POLICIES = ['none', 'quarantine', 'reject'] as const;

export type SpfVerdict = (typeof SPF_RESULTS)[number];
export type DkimVerdict = (typeof DKIM_RESULTS)[number];
export type DmarcVerdict = (typeof DMARC_RESULTS)[number];
export type DmarcPolicy = (typeof DMARC_POLICIES)[number];

/** What the checks found about who sent a mail, recorded with it (inbound_mail, messages). */
export interface SenderVerdict {
  /** The address the mail says it is from (its From header), whom it is filed under. */
  address: string;
  fromDomain: string;
  /** `unchecked`: the mail was fetched from a mailbox, so the server that sent it is unknown. */
  spf: SpfVerdict;
  dkim: DkimVerdict;
  /** The domain of the DKIM signature the result is about. */
  dkimDomain: string | null;
  dmarc: DmarcVerdict;
  /** The policy the From domain publishes, when it publishes one. */
  dmarcPolicy: DmarcPolicy | null;
  /** The From domain vouches for the mail: DMARC passes, or (without DMARC) SPF or DKIM passes for that domain. */
  verified: boolean;
}

/** What mailauth found, whichever way the mail arrived. */
export interface CheckResults {
  /** 'unchecked' for mail fetched from a mailbox. */
  spf: SPFResult | false | 'unchecked';
  dkim: DKIMVerifyResult;
  dmarc: DMARCResult | false;
}

/** `value` when it is one of `values`. */
const pick = <T extends string>(values: readonly T[], value: string | undefined): T | undefined => values.find((v) => v === value);
/** mailauth's result word, with its older spelling of a temporary error. */
const word = (result: string): string => (result === 'temperr' ? 'temperror' : result);
/** Lower case, for what mailauth may leave out whatever its typings say. */
const lower = (value: unknown): string | undefined => (typeof value === 'string' ? value.toLowerCase() : undefined);

/** A domain as DNS names it: lower case, IDNA (punycode), no trailing dot. */
export function asciiDomain(domain: string): string {
  const trimmed = domain.trim().toLowerCase().replace(/\.$/, '');
  return domainToASCII(trimmed) || trimmed;
}

/** Relaxed alignment without the public suffix list: the same domain, or one under the other. */
function aligned(domain: string, fromDomain: string): boolean {
  const d = asciiDomain(domain);
  return d === fromDomain || d.endsWith(`.${fromDomain}`) || fromDomain.endsWith(`.${d}`);
}

function spfOf(spf: CheckResults['spf']): { result: SpfVerdict; domain: string | null } {
  if (spf === 'unchecked') return { result: 'unchecked', domain: null };
  if (spf === false) return { result: 'none', domain: null };
  return { result: pick(SPF_RESULTS, word(spf.status.result)) ?? 'permerror', domain: spf.domain };
}

/** The signature that says most: one that passes for the From domain, else any that passes, else the first. */
function dkimOf(results: DKIMResult[], fromDomain: string): { result: DkimVerdict; domain: string | null; aligned: boolean } {
  const passing = results.filter((r) => r.status.result === 'pass');
  const alignedPass = passing.find((r) => Boolean(r.status.aligned) || aligned(r.signingDomain, fromDomain));
  const best = alignedPass ?? passing[0] ?? results[0];
  if (best === undefined) return { result: 'none', domain: null, aligned: false };
  return { result: pick(DKIM_RESULTS, word(best.status.result)) ?? 'permerror', domain: best.signingDomain ? asciiDomain(best.signingDomain) : null, aligned: alignedPass !== undefined };
}

/**
 * DMARC as mailauth judged it, for the domain of the address the mail is filed under. Several
 * From addresses (mailauth then judges none), or a From header that mailauth reads as another
 * domain than the one the mail is filed under, is a permanent error: nothing vouches for it.
 */
function dmarcOf(results: CheckResults, fromDomain: string): { result: DmarcVerdict; policy: DmarcPolicy | null } {
  const judged = results.dkim.headerFrom;
  const judgedDomain = judged.length === 1 ? asciiDomain(judged[0]?.split('@').pop() ?? '') : undefined;
  if (results.dmarc === false || judgedDomain !== fromDomain) return { result: 'permerror', policy: null };
  const result = pick(DMARC_RESULTS, word(results.dmarc.status.result)) ?? 'permerror';
  // A policy exists only where a DMARC record does, that is where the check could pass or fail.
  const policy = result === 'pass' || result === 'fail' ? pick(DMARC_POLICIES, lower(results.dmarc.policy)) : undefined;
  return { result, policy: policy ?? null };
}

/** The verdict on a mail filed under `address`, from what the checks found. */
export function verdictOf(address: string, results: CheckResults): SenderVerdict {
  const fromDomain = asciiDomain(address.split('@').pop() ?? '');
  const spf = spfOf(results.spf);
  const dkim = dkimOf(results.dkim.results, fromDomain);
  const dmarc = dmarcOf(results, fromDomain);
  const spfAligned = spf.result === 'pass' && spf.domain !== null && aligned(spf.domain, fromDomain);
  const verified = dmarc.result === 'pass' || (dmarc.result === 'none' && (spfAligned || dkim.aligned));
  return { address, fromDomain, spf: spf.result, dkim: dkim.result, dkimDomain: dkim.domain, dmarc: dmarc.result, dmarcPolicy: dmarc.policy, verified };
}

/** The verdict when the checks could not run at all: nothing vouches for the mail. */
export function uncheckedVerdict(address: string, spf: SpfVerdict): SenderVerdict {
  return { address, fromDomain: asciiDomain(address.split('@').pop() ?? ''), spf, dkim: 'temperror', dkimDomain: null, dmarc: 'temperror', dmarcPolicy: null, verified: false };
}

/**
 * Whether a mail is held (kept off the portal, threaded into no existing conversation, filed
 * under no new contact, answered by no one) until staff accept it: when its From domain's DMARC
 * check fails (whatever the policy), could not be made (a DNS failure), or cannot apply (several
 * From addresses). A domain without DMARC asks nothing of receivers: its mail is not held.
 */
export function isHeld(verdict: SenderVerdict): boolean {
  return verdict.dmarc === 'fail' || verdict.dmarc === 'temperror' || verdict.dmarc === 'permerror';
}

/** A verdict read back from its JSON column; undefined when there is none (mail from before the checks). */
export function readVerdict(text: string | null): SenderVerdict | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<SenderVerdict> | null;
    return typeof value?.address === 'string' && typeof value.verified === 'boolean' ? (value as SenderVerdict) : undefined;
  } catch {
    return undefined;
  }
}

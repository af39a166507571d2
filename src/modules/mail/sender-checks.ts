import { boundedResolver, type DnsBounds, type DnsResolver } from '../../util/dns.js';
import { uncheckedVerdict, verdictOf, type CheckResults, type SenderVerdict } from './sender-verdict.js';

/** How a mail reached us: over our SMTP listener (the client's address, HELO name, MAIL FROM), or fetched from a mailbox. */
export interface Arrival {
  source: 'smtp' | 'imap';
  clientIp: string | null;
  helo: string | null;
  envelopeFrom: string | null;
}

type MailAuth = typeof import('mailauth');
let mailauth: Promise<MailAuth> | undefined;

/**
 * mailauth, loaded once. It and what it brings (about half a second of loading) are needed only
 * where mail is checked: `portico start` loads it at boot, the CLI's other commands never do.
 */
export function loadMailAuth(): Promise<MailAuth> {
  mailauth ??= import('mailauth');
  return mailauth;
}

/** One question waits at most 5 s; all the questions about one mail, 20 s. */
export const MAIL_DNS_BOUNDS: DnsBounds = { timeoutMs: 5_000, budgetMs: 20_000 };

/**
 * Checks who sent a mail (C12) with mailauth: SPF for the connecting server and the envelope
 * sender, DKIM signatures, and DMARC for the From domain. Mail our listener received is checked
 * with the connection it came on. Mail fetched from a mailbox (IMAP) came on a connection we
 * never saw: its DKIM signatures are checked on the bytes and DMARC by them alone; SPF is recorded
 * as unchecked. DNS answers are bounded in time; what cannot be looked up is a temporary error.
 */
export class SenderChecks {
  constructor(
    private readonly resolver: DnsResolver,
    private readonly bounds: DnsBounds = MAIL_DNS_BOUNDS,
  ) {}

  async check(raw: Buffer, address: string, arrival: Arrival): Promise<SenderVerdict> {
    const dns = boundedResolver(this.resolver, this.bounds);
    try {
      const results = arrival.source === 'smtp' && arrival.clientIp !== null
        ? await this.overSmtp(raw, { ...arrival, clientIp: arrival.clientIp }, dns.resolve)
        : await this.fromMailbox(raw, dns.resolve);
      return verdictOf(address, results);
    } catch {
      // mailauth turns what DNS cannot answer into results; should it fail otherwise, nothing vouches for the mail (it is held).
      return uncheckedVerdict(address, arrival.source === 'smtp' ? 'temperror' : 'unchecked');
    } finally {
      dns.close();
    }
  }

  private async overSmtp(raw: Buffer, arrival: Arrival & { clientIp: string }, resolver: DnsResolver): Promise<CheckResults> {
    const { authenticate } = await loadMailAuth();
    const result = await authenticate(raw, {
      ip: arrival.clientIp,
      ...(arrival.helo === null ? {} : { helo: arrival.helo }),
      ...(arrival.envelopeFrom === null || arrival.envelopeFrom === '' ? {} : { sender: arrival.envelopeFrom }),
      resolver,
      disableArc: true,
      disableBimi: true,
    });
    return { spf: result.spf, dkim: result.dkim, dmarc: result.dmarc };
  }

  private async fromMailbox(raw: Buffer, resolver: DnsResolver): Promise<CheckResults> {
    const { dkimVerify, dmarc } = await loadMailAuth();
    const dkim = await dkimVerify(raw, { resolver });
    const found = await dmarc({
      headerFrom: dkim.headerFrom,
      spfDomains: [],
      dkimDomains: dkim.results.filter((r) => r.status.result === 'pass').map((r) => ({ domain: r.signingDomain, ...(r.status.aligned === undefined ? {} : { aligned: r.status.aligned }) })),
      resolver,
    });
    return { spf: 'unchecked', dkim, dmarc: found };
  }
}

import { describe, expect, test } from 'vitest';
import { boundedResolver, type Timer } from '../../src/util/dns.js';

// C12: the DNS questions about one incoming mail are bounded, so a name server that never
// answers (the sender's own, perhaps on purpose) cannot hold processing up. Timers are the
// test's own, fired by hand: nothing here waits on the wall clock.

/** Timers that fire only when the test says so. */
class HandTimers {
  private readonly waiting: { ms: number; fire: () => void }[] = [];
  readonly timer: Timer = (ms, signal) => new Promise<void>((resolve, reject) => {
    const entry = { ms, fire: resolve };
    this.waiting.push(entry);
    signal.addEventListener('abort', () => {
      this.waiting.splice(this.waiting.indexOf(entry), 1);
      reject(new Error('aborted'));
    });
  });

  /** Fires every running timer of `ms`; returns how many there were. */
  fire(ms: number): number {
    const due = this.waiting.filter((w) => w.ms === ms);
    for (const w of due) w.fire();
    return due.length;
  }

  get running(): number {
    return this.waiting.length;
  }
}

const never = (): Promise<string[][]> => new Promise(() => undefined);
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('bounded DNS for the checks on incoming mail', () => {
  test('C12 answers pass through, and each question’s timer is cancelled once answered', async () => {
    const timers = new HandTimers();
    const dns = boundedResolver((name) => Promise.resolve([[`v=spf1 -all ${name}`]]), { timeoutMs: 5000, budgetMs: 20000, timer: timers.timer });
    expect(await dns.resolve('a.example', 'TXT')).toEqual([['v=spf1 -all a.example']]);
    // Only the budget for the whole mail is still running; closing cancels it.
    expect(timers.running).toBe(1);
    dns.close();
    expect(timers.running).toBe(0);
  });

  test('C12 a question that is never answered fails as a DNS timeout when its time is up; errors of the resolver pass through', async () => {
    const timers = new HandTimers();
    const dns = boundedResolver((name) => (name === 'broken.example' ? Promise.reject(Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' })) : never()), { timeoutMs: 5000, budgetMs: 20000, timer: timers.timer });
    const silent = dns.resolve('silent.example', 'TXT');
    await settle();
    expect(timers.fire(5000)).toBe(1);
    await expect(silent).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(dns.resolve('broken.example', 'TXT')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    dns.close();
  });

  test('C12 once the budget for a mail is spent, the question waiting fails and every later one fails at once', async () => {
    const timers = new HandTimers();
    let asked = 0;
    const dns = boundedResolver((name) => {
      asked += 1;
      return name === 'quick.example' ? Promise.resolve([['ok']]) : never();
    }, { timeoutMs: 5000, budgetMs: 20000, timer: timers.timer });
    const waiting = dns.resolve('slow.example', 'TXT');
    await settle();
    expect(timers.fire(20000)).toBe(1);
    await expect(waiting).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(dns.resolve('quick.example', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(asked).toBe(1);
    dns.close();
  });
});

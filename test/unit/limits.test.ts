import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { AppError } from '../../src/errors.js';
import { clientKey, Limits } from '../../src/security/limits.js';

const rule = { name: 'test', points: 10, durationS: 60 };

async function outcome(limits: Limits, key = 'k'): Promise<number | 'ok'> {
  try {
    await limits.take(rule, key);
    return 'ok';
  } catch (error) {
    if (error instanceof AppError && error.status === 429) return error.retryAfterSeconds ?? -1;
    throw error;
  }
}

describe('request limits', () => {
  test('C4 a limit refuses the use past its points, per key, and says when to try again', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
    const limits = new Limits(clock);
    for (let i = 0; i < 10; i++) expect(await outcome(limits)).toBe('ok');
    const refused = await outcome(limits);
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(60);
    expect(await outcome(limits, 'another key')).toBe('ok');
  });

  test('C4 the window slides: no burst of twice the limit across a window edge, and uses come back as it moves on', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 50));
    const limits = new Limits(clock);
    for (let i = 0; i < 10; i++) expect(await outcome(limits)).toBe('ok');
    // Ten seconds later a new fixed window has begun, but most of the last minute is still in view.
    clock.advance(10_000);
    expect(await outcome(limits)).not.toBe('ok');
    // A minute after the first ten, they have slid out of view.
    clock.advance(60_000);
    for (let i = 0; i < 9; i++) expect(await outcome(limits)).toBe('ok');
  });

  test('C4 a client is its IPv4 address, or the /64 network of its IPv6 address', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2::9')).toBe(clientKey('2001:0db8:0001:0002:ffff::1'));
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
  });
});

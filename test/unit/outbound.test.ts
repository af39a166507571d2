import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createOutboundClient, isInternalAddress, OutboundRefused, type Lookup } from '../../src/security/outbound.js';

// X2 P12 The one client for requests to addresses admins configure (security/outbound.ts).

describe('requests to configured addresses', () => {
  let server: Server;
  let base = '';
  let connections = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        if (req.url === '/big') return void res.end('x'.repeat(2048));
        if (req.url === '/gzip') return void res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end(gzipSync('{"keys":[]}'));
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString(), auth: req.headers.authorization ?? null }));
      });
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  });

  test('X2 P12 private, loopback, link-local, unique-local, CGNAT, multicast, reserved and unspecified addresses are internal; public ones are not', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.254', '169.254.169.254', '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1',
      '::', '::1', '[::1]', 'fe80::1', 'fe80::1%eth0', 'fd00::1', 'fc00::5', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '2002:7f00:1::1', 'not an address']) {
      expect(isInternalAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e', '64:ff9b::808:808']) {
      expect(isInternalAddress(address), address).toBe(false);
    }
  });

  test('X2 P12 without the switch nothing internal is contacted: an IP in the address, or a name whose lookup answers an internal address among others', async () => {
    const rebinding: Lookup = (_hostname, _options, callback) => {
      callback(null, [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }]);
    };
    const client = createOutboundClient({ allowPrivate: false, lookup: rebinding });
    const port = new URL(base).port;
    for (const url of [`${base}/`, `http://[::1]:${port}/`, `http://rebinding.example:${port}/`, 'http://169.254.169.254/latest/meta-data/']) {
      await expect(client.fetch(url), url).rejects.toBeInstanceOf(OutboundRefused);
    }
    await expect(client.fetch(`http://rebinding.example:${port}/`)).rejects.toThrow(/rebinding\.example \(127\.0\.0\.1\) is on this machine or a private or internal network/);
    await expect(client.fetch('file:///etc/passwd')).rejects.toThrow(/only http and https/);
    expect(connections).toBe(0);
  });

  test('X2 P12 with the switch (development, tests) it answers like fetch: method, headers and body sent; redirects returned, never followed; gzip read; an answer past the limit refused', async () => {
    const client = createOutboundClient({ allowPrivate: true, maxBytes: 1024 });
    const posted = await client.fetch(`${base}/token`, { method: 'POST', headers: { authorization: 'Basic abc' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c' }) });
    expect(posted.status).toBe(200);
    expect(posted.headers.get('content-type')).toBe('application/json');
    expect(await posted.json()).toEqual({ method: 'POST', body: 'grant_type=authorization_code&code=c', auth: 'Basic abc' });
    const redirect = await client.fetch(`${base}/redirect`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/');
    expect(await (await client.fetch(`${base}/gzip`)).json()).toEqual({ keys: [] });
    await expect(client.fetch(`${base}/big`)).rejects.toThrow(/larger than 1024 bytes/);
  });

  test('X2 P12 what an admin types is checked when saved: https only, and no internal address written as an IP; plain http to loopback only with the switch', () => {
    const strict = createOutboundClient({ allowPrivate: false });
    expect(strict.problemWith('https://id.example.com/realms/acme')).toBeNull();
    expect(strict.problemWith('http://id.example.com/')).toBe('must be an https address');
    expect(strict.problemWith('http://127.0.0.1:8080/')).toBe('must be an https address');
    expect(strict.problemWith('https://192.168.0.10/')).toBe('is on this machine or a private or internal network, which Portico does not contact');
    expect(strict.problemWith('https://[fe80::1]/')).toBe('is on this machine or a private or internal network, which Portico does not contact');
    const development = createOutboundClient({ allowPrivate: true });
    expect(development.problemWith('http://127.0.0.1:8080/')).toBeNull();
    expect(development.problemWith('https://10.0.0.1/')).toBeNull();
  });

  test('X2 P12 OUTBOUND_ALLOW_PRIVATE is off unless set, and a value that is not a yes or no stops the start naming it', () => {
    const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'portico-out-')), SESSION_SECRET: 'x'.repeat(40), ...env });
    expect(load({}).outbound.allowPrivate).toBe(false);
    expect(load({ OUTBOUND_ALLOW_PRIVATE: 'true' }).outbound.allowPrivate).toBe(true);
    expect(() => load({ OUTBOUND_ALLOW_PRIVATE: 'sometimes' })).toThrow(ConfigError);
    expect(() => load({ OUTBOUND_ALLOW_PRIVATE: 'sometimes' })).toThrow(/OUTBOUND_ALLOW_PRIVATE must be true or false/);
  });
});

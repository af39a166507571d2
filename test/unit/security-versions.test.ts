/**
 * This machine cannot run `npm audit` (no registry audit endpoint), so this test pins the minimum safe
 * versions of the SAML/XML-signature stack by hand: it finds EVERY installed copy of each package
 * (nested node_modules included, matched by the `name` in its package.json) and fails if one falls in
 * the affected range of a known advisory, or sits on a release line nobody has checked.
 *
 * When a new advisory appears: add it below with its fixed version(s) and the source. When a new
 * release line is installed (e.g. @xmldom/xmldom 0.9.x): look up the fixed versions of every advisory
 * for that line first, then add the line to `checkedLines`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT_NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** One advisory: the version ranges it affects, [introduced, fixed) as in OSV / GitHub advisories. */
interface Advisory {
  id: string;
  ranges: { introduced: string; fixed: string }[];
}

interface PackagePolicy {
  /** Release lines (major.minor for 0.x, else major) whose fixed versions were researched. */
  checkedLines: string[];
  advisories: Advisory[];
}

/** Sources: GitHub advisories / CVE records and the packages' own changelogs, researched 2026-11. */
const POLICY: Record<string, PackagePolicy> = {
  'xml-crypto': {
    checkedLines: ['2', '3', '6'],
    advisories: [
      // GHSA-c27r-x354-4m68 (no CVE): HMAC-SHA1 signature forged with the RSA public key; fixed 2.0.0.
      { id: 'GHSA-c27r-x354-4m68', ranges: [{ introduced: '0.0.0', fixed: '2.0.0' }] },
      // CVE-2024-32962 / GHSA-2xp3-57p7-qf4v: trusted the certificate in KeyInfo by default; >=4.0.0 <6.0.0.
      { id: 'CVE-2024-32962 / GHSA-2xp3-57p7-qf4v', ranges: [{ introduced: '4.0.0', fixed: '6.0.0' }] },
      // CVE-2025-29774 / GHSA-9p8x-f768-wp2g: bypass via multiple SignedInfo references; fixed 6.0.1, 3.2.1, 2.1.6.
      // CVE-2025-29775 / GHSA-x3m8-899r-f7c3: bypass via a comment in DigestValue; fixed 6.0.1, 3.2.1, 2.1.6.
      ...['CVE-2025-29774 / GHSA-9p8x-f768-wp2g', 'CVE-2025-29775 / GHSA-x3m8-899r-f7c3'].map((id) => ({
        id,
        ranges: [
          { introduced: '0.0.0', fixed: '2.1.6' },
          { introduced: '3.0.0', fixed: '3.2.1' },
          { introduced: '4.0.0', fixed: '6.0.1' },
        ],
      })),
      // Not an advisory: @node-saml/node-saml 5.1.0's fix for CVE-2025-54419 reads only what
      // getSignedReferences() returns (xml-crypto 6.1.0; 6.1.2 drops all references if one is corrupt)
      // and it depends on xml-crypto ^6.1.2.
      { id: 'node-saml 5.1.0 needs xml-crypto >=6.1.2 (getSignedReferences)', ranges: [{ introduced: '6.0.0', fixed: '6.1.2' }] },
    ],
  },
  '@xmldom/xmldom': {
    // Only the 0.8 line is checked: several 2026 advisories were fixed at different 0.9.x versions.
    checkedLines: ['0.8'],
    advisories: [
      // CVE-2021-32796 / GHSA-5fg8-2547-mr8q: misinterpretation of malicious XML input; fixed 0.7.0.
      { id: 'CVE-2021-32796 / GHSA-5fg8-2547-mr8q', ranges: [{ introduced: '0.0.0', fixed: '0.7.0' }] },
      // CVE-2022-39353 / GHSA-crh6-fp67-6883: multiple root nodes accepted; fixed 0.7.7, 0.8.4.
      { id: 'CVE-2022-39353 / GHSA-crh6-fp67-6883', ranges: [{ introduced: '0.0.0', fixed: '0.7.7' }, { introduced: '0.8.0', fixed: '0.8.4' }] },
      // CVE-2026-34601 / GHSA-wh4c-j3r5-mjhp: XML injection through CDATA serialization; fixed 0.8.12.
      { id: 'CVE-2026-34601 / GHSA-wh4c-j3r5-mjhp', ranges: [{ introduced: '0.0.0', fixed: '0.8.12' }] },
      // CHANGELOG 0.8.13: CVE-2026-41672 / GHSA-j759-j44w-7fr8 (comment serialization injection),
      // CVE-2026-41675 / GHSA-x6wf-f3px-wcqx (processing-instruction serialization injection),
      // GHSA-f6ww-3ggp-fr8h (DocumentType serialization injection), GHSA-2v35-w6hq-6mfw (stack exhaustion on deep trees).
      ...['CVE-2026-41672 / GHSA-j759-j44w-7fr8', 'CVE-2026-41675 / GHSA-x6wf-f3px-wcqx', 'GHSA-f6ww-3ggp-fr8h', 'GHSA-2v35-w6hq-6mfw'].map((id) => ({
        id,
        ranges: [{ introduced: '0.0.0', fixed: '0.8.13' }],
      })),
      // CHANGELOG 0.8.14: GHSA-w2rr-34g9-rvrj, GHSA-4w3w-2rp5-g8jm (element/attribute name injection on serialization).
      ...['GHSA-w2rr-34g9-rvrj', 'GHSA-4w3w-2rp5-g8jm'].map((id) => ({ id, ranges: [{ introduced: '0.0.0', fixed: '0.8.14' }] })),
      // CHANGELOG 0.8.15: GHSA-965w-775f-mr7g (quadratic namespace memory), GHSA-8344-3jmq-59r6 (quadratic
      // duplicate attributes), GHSA-x4fp-j954-r2f4 (end-tag ReDoS), GHSA-93r5-fhx6-vmg9 (quadratic recovery),
      // GHSA-27p8-2357-5qqv (DocType name injection), GHSA-c7q8-3ch8-vqpv (PI target injection),
      // GHSA-6gmq-8vp8-gcm6 (EntityReference name injection), GHSA-6h8r-xr42-gp59 (malformed end tag accepted).
      ...[
        'GHSA-965w-775f-mr7g',
        'GHSA-8344-3jmq-59r6',
        'GHSA-x4fp-j954-r2f4',
        'GHSA-93r5-fhx6-vmg9',
        'GHSA-27p8-2357-5qqv',
        'GHSA-c7q8-3ch8-vqpv',
        'GHSA-6gmq-8vp8-gcm6',
        'GHSA-6h8r-xr42-gp59',
      ].map((id) => ({ id, ranges: [{ introduced: '0.0.0', fixed: '0.8.15' }] })),
    ],
  },
  '@node-saml/node-saml': {
    checkedLines: ['5'],
    advisories: [
      // CVE-2025-29774 / CVE-2025-29775 came in through xml-crypto 6.0.0; node-saml 5.0.1 moved to 6.0.1.
      { id: 'CVE-2025-29774 + CVE-2025-29775 via xml-crypto', ranges: [{ introduced: '0.0.0', fixed: '5.0.1' }] },
      // CVE-2025-54419 / GHSA-4mxg-3p6v-xgq3: assertion read from the unsigned original document; fixed 5.1.0.
      { id: 'CVE-2025-54419 / GHSA-4mxg-3p6v-xgq3', ranges: [{ introduced: '0.0.0', fixed: '5.1.0' }] },
      // CVE-2025-54369 / GHSA-m837-g268-mmv7: SAML authentication bypass; fixed 5.1.0.
      { id: 'CVE-2025-54369 / GHSA-m837-g268-mmv7', ranges: [{ introduced: '0.0.0', fixed: '5.1.0' }] },
    ],
  },
  samlify: {
    checkedLines: ['2'],
    advisories: [
      // CVE-2017-1000452: XML signature wrapping in 2.2.0 and earlier; fixed 2.3.0.
      { id: 'CVE-2017-1000452', ranges: [{ introduced: '0.0.0', fixed: '2.3.0' }] },
      // GHSA-8jjf-w7j6-323c: signature wrapping lets tokens be reused with other usernames; fixed 2.4.0-rc5.
      { id: 'GHSA-8jjf-w7j6-323c', ranges: [{ introduced: '0.0.0', fixed: '2.4.0-rc5' }] },
      // CVE-2025-47949 / GHSA-r683-v43c-6xqv: signature wrapping (CVSS 9.9); fixed 2.10.0.
      { id: 'CVE-2025-47949 / GHSA-r683-v43c-6xqv', ranges: [{ introduced: '0.0.0', fixed: '2.10.0' }] },
    ],
  },
  jose: {
    checkedLines: ['6'],
    advisories: [
      // CVE-2024-28176 / GHSA-hhhv-q57g-882q: JWE decompression resource exhaustion; fixed 2.0.7, 4.15.5
      // (5.x and later dropped JWE compression and are not affected).
      { id: 'CVE-2024-28176 / GHSA-hhhv-q57g-882q', ranges: [{ introduced: '0.0.0', fixed: '2.0.7' }, { introduced: '3.0.0', fixed: '4.15.5' }] },
    ],
  },
};

/** A parsed version: numeric core and optional prerelease tag ("rc5"). */
function parseVersion(version: string): { core: number[]; pre: string | undefined } {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(version.trim());
  if (match === null) throw new Error(`not a semantic version: ${version}`);
  return { core: [Number(match[1]), Number(match[2]), Number(match[3])], pre: match[4] };
}

/** Compares two prerelease tags as semver does: dot-separated, numeric parts numerically, numbers before words. */
function comparePre(a: string, b: string): number {
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xNum = /^\d+$/.test(x);
    const yNum = /^\d+$/.test(y);
    if (xNum && yNum && Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    if (xNum !== yNum) return xNum ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** -1, 0 or 1 as `a` is lower than, equal to or higher than `b` in semver precedence. */
function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    if (va.core[i] !== vb.core[i]) return va.core[i]! < vb.core[i]! ? -1 : 1;
  }
  if (va.pre === vb.pre) return 0;
  if (va.pre === undefined) return 1; // 2.4.0 > 2.4.0-rc5
  if (vb.pre === undefined) return -1;
  return comparePre(va.pre, vb.pre);
}

/** The release line of a version: "0.8" for 0.x, else the major ("6"). */
function releaseLine(version: string): string {
  const { core } = parseVersion(version);
  return core[0] === 0 ? `0.${String(core[1])}` : String(core[0]);
}

/** The advisories whose affected ranges contain `version`. */
function advisoriesAffecting(version: string, advisories: Advisory[]): string[] {
  return advisories
    .filter((a) => a.ranges.some((r) => compareVersions(version, r.introduced) >= 0 && compareVersions(version, r.fixed) < 0))
    .map((a) => a.id);
}

interface InstalledCopy {
  name: string;
  version: string;
  dir: string;
}

/** Every package directory under a node_modules folder (scoped ones included), recursing into nested node_modules. */
function installedPackages(nodeModules: string, found: InstalledCopy[] = []): InstalledCopy[] {
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const path = join(nodeModules, entry);
    const dirs = entry.startsWith('@') ? readdirSync(path).map((scoped) => join(path, scoped)) : [path];
    for (const dir of dirs) {
      if (!statSync(dir).isDirectory()) continue;
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof manifest.name === 'string' && typeof manifest.version === 'string') {
          found.push({ name: manifest.name, version: manifest.version, dir });
        }
      } catch {
        // not a package (no package.json)
      }
      const nested = join(dir, 'node_modules');
      if (statSync(nested, { throwIfNoEntry: false })?.isDirectory() === true) installedPackages(nested, found);
    }
  }
  return found;
}

describe('P12 minimum safe versions of the SAML stack', () => {
  const installed = installedPackages(ROOT_NODE_MODULES);

  test('P12 the version comparison orders versions as semver does', () => {
    const cases: [string, string, number][] = [
      ['6.3.2', '6.0.1', 1],
      ['6.0.1', '6.0.1', 0],
      ['0.8.15', '0.8.4', 1],
      ['0.8.3', '0.8.12', -1],
      ['2.4.0', '2.4.0-rc5', 1],
      ['2.4.0-rc4', '2.4.0-rc5', -1],
      ['2.4.0-rc10', '2.4.0-rc5', -1], // semver compares word identifiers as ASCII text
      ['2.4.0-rc.10', '2.4.0-rc.5', 1],
      ['10.0.0', '9.9.9', 1],
    ];
    for (const [a, b, expected] of cases) expect(compareVersions(a, b), `${a} vs ${b}`).toBe(expected);
    // Cross-check with the semver package when some dependency happens to install it (it has no types here).
    const require = createRequire(import.meta.url);
    let semver: { compare(a: string, b: string): number } | undefined;
    try {
      semver = require('semver') as { compare(a: string, b: string): number };
    } catch {
      semver = undefined;
    }
    if (semver !== undefined) {
      for (const [a, b] of cases) expect(compareVersions(a, b), `${a} vs ${b} (semver)`).toBe(semver.compare(a, b));
    }
  });

  test.each(Object.keys(POLICY))('P12 every installed copy of %s is past every known advisory', (name) => {
    const policy = POLICY[name]!;
    const copies = installed.filter((p) => p.name === name);
    expect(copies.length, `${name} is installed`).toBeGreaterThan(0);
    for (const copy of copies) {
      const where = `${copy.name}@${copy.version} in ${copy.dir}`;
      expect(policy.checkedLines, `${where}: nobody has checked the advisories' fixed versions for this release line`).toContain(
        releaseLine(copy.version),
      );
      expect(advisoriesAffecting(copy.version, policy.advisories), `${where} is affected`).toEqual([]);
    }
  });

  test('P12 the advisory table itself catches the vulnerable versions it names', () => {
    const affected = (name: string, version: string) => advisoriesAffecting(version, POLICY[name]!.advisories);
    expect(affected('xml-crypto', '6.0.0')).toEqual(expect.arrayContaining(['CVE-2025-29774 / GHSA-9p8x-f768-wp2g', 'CVE-2025-29775 / GHSA-x3m8-899r-f7c3']));
    expect(affected('xml-crypto', '5.1.1')).toContain('CVE-2024-32962 / GHSA-2xp3-57p7-qf4v');
    expect(affected('xml-crypto', '3.2.1')).toEqual([]);
    expect(affected('xml-crypto', '2.1.6')).toEqual([]);
    expect(affected('xml-crypto', '6.1.1')).toEqual(['node-saml 5.1.0 needs xml-crypto >=6.1.2 (getSignedReferences)']);
    expect(affected('@node-saml/node-saml', '5.0.1')).toEqual(['CVE-2025-54419 / GHSA-4mxg-3p6v-xgq3', 'CVE-2025-54369 / GHSA-m837-g268-mmv7']);
    expect(affected('@xmldom/xmldom', '0.8.3')).toContain('CVE-2022-39353 / GHSA-crh6-fp67-6883');
    expect(affected('@xmldom/xmldom', '0.8.14')).toHaveLength(8);
    expect(affected('samlify', '2.9.9')).toEqual(['CVE-2025-47949 / GHSA-r683-v43c-6xqv']);
    expect(affected('samlify', '2.4.0-rc4')).toContain('GHSA-8jjf-w7j6-323c');
    expect(affected('jose', '4.15.4')).toEqual(['CVE-2024-28176 / GHSA-hhhv-q57g-882q']);
  });
});

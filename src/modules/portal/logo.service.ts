import type { Readable } from 'node:stream';
import type { Deps } from '../../deps.js';
import { errors } from '../../errors.js';
import type { FileStore } from '../../storage/file-store.js';
import type { ConversationsService } from '../conversations/conversations.service.js';
import type { PortalRow, PortalsService } from './portals.service.js';
import { brandingOf } from './theme.js';

/** Pictures a browser shows without running anything: never SVG (it can carry scripts). */
export const LOGO_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
export const LOGO_MAX_BYTES = 1024 * 1024;

export interface LogoFile {
  sha256: string;
  contentType: string;
}

/** The uploaded logo of a portal (P22), if any: kept in its branding, stored by content hash. */
export function logoFileOf(portal: PortalRow): LogoFile | null {
  const file = (brandingOf(portal) as { logoFile?: unknown }).logoFile;
  if (typeof file !== 'object' || file === null) return null;
  const { sha256, contentType } = file as Record<string, unknown>;
  return typeof sha256 === 'string' && /^[0-9a-f]{64}$/.test(sha256) && typeof contentType === 'string' && LOGO_TYPES.has(contentType) ? { sha256, contentType } : null;
}

/**
 * A portal's logo uploaded by staff (P22): PNG, JPEG, GIF or WebP by its bytes (not by its name
 * or declared type), at most 1 MB, in the same content-addressed store as attachments; served on
 * the portal's host at /assets/logo/<sha256>, so a new logo is a new address.
 */
export class PortalLogoService {
  constructor(
    private readonly deps: Deps,
    private readonly portals: PortalsService,
    private readonly conversations: ConversationsService,
    private readonly files: FileStore,
  ) {}

  async upload(portalId: number, source: Readable, filename: string, declaredType: string): Promise<PortalRow> {
    await this.portals.get(portalId);
    const stored = await this.conversations.storeFile(source, filename, declaredType, LOGO_MAX_BYTES);
    if (!LOGO_TYPES.has(stored.contentType)) {
      throw errors.unprocessable('LOGO_NOT_AN_IMAGE', 'A logo must be a PNG, JPEG, GIF or WebP picture.', [{ path: '/body/file', message: 'Choose a PNG, JPEG, GIF or WebP picture.' }]);
    }
    return this.portals.setLogoFile(portalId, { sha256: stored.sha256, contentType: stored.contentType });
  }

  remove(portalId: number): Promise<PortalRow> {
    return this.portals.setLogoFile(portalId, null);
  }

  /** The logo's bytes when `sha256` is the portal's current logo and its file is there; undefined otherwise. */
  async open(portal: PortalRow, sha256: string): Promise<{ body: Readable; contentType: string } | undefined> {
    const file = logoFileOf(portal);
    if (file?.sha256 !== sha256) return undefined;
    const body = await this.files.open(file.sha256);
    return body === undefined ? undefined : { body, contentType: file.contentType };
  }

  /** Every logo in use, for the file store's sweep. */
  async inUse(hashes: string[]): Promise<Set<string>> {
    const rows = await this.deps.db.selectFrom('portals').selectAll().execute();
    const used = new Set(rows.map((r) => logoFileOf(r)?.sha256).filter((s): s is string => s !== undefined));
    return new Set(hashes.filter((h) => used.has(h)));
  }
}

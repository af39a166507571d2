import nodemailer from 'nodemailer';
import { SmtpListener } from '../../src/modules/mail/smtp-listener.js';
import type { TestApp } from './test-app.js';
import { unique } from './test-app.js';

/** A mail inbox with one connected address, and Portico's SMTP listener on loopback. */
export interface MailIn {
  listener: SmtpListener;
  port: number;
  inboxId: number;
  channelId: number;
  address: string;
  pipelineId: number;
}

export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startMailIn(t: TestApp, options: { maxBytes?: number } = {}): Promise<MailIn> {
  const s = t.app.services;
  const { inbox } = await s.inboxes.create(unique('Support'));
  const address = `${unique('support').toLowerCase()}@acme.example`;
  const withChannel = await s.inboxes.addChannel(inbox.id, { type: 'email', name: 'Support mail', address });
  const pipeline = await s.pipelines.create({ name: unique('Mail'), stages: [{ name: 'New', state: 'open' }, { name: 'Done', state: 'closed' }] });
  await s.inboxes.update(inbox.id, { pipelineId: pipeline.pipeline.id });
  const listener = new SmtpListener(s.inbound, quietLog, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
  const port = await listener.start(0, '127.0.0.1');
  return { listener, port, inboxId: inbox.id, channelId: withChannel.channels[0]?.id ?? 0, address, pipelineId: pipeline.pipeline.id };
}

/** A real SMTP client (nodemailer) sending to the listener: a composed mail or raw bytes. */
export function smtpClient(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: false });
}

/** Sends raw RFC 5322 bytes with the given envelope; resolves with the server's answer. */
export async function sendRaw(port: number, raw: string | Buffer, envelope: { from: string; to: string[] }): Promise<string> {
  const info = await smtpClient(port).sendMail({ envelope, raw });
  return info.response;
}

/** A plain RFC 5322 message, CRLF line ends. */
export function rawMail(headers: Record<string, string>, body: string): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`;
}

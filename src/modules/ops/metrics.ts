import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance (tests build many apps in one process). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status_code'>;
  readonly duration: Histogram<'method' | 'route' | 'status_code'>;
  readonly dbUp: Gauge;
  readonly shed: Counter;
  readonly outbox: Gauge<'status'>;
  private outboxDepth: (() => Promise<Record<string, number>>) | undefined;
  readonly logDropped: Counter;
  private droppedLines: (() => number) | undefined;

  constructor(options: { defaultMetrics: boolean }) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'portico_' });
    this.requests = new Counter({
      name: 'portico_http_requests_total',
      help: 'HTTP requests answered, by route template and status.',
      labelNames: ['method', 'route', 'status_code'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'portico_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by route template and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.shed = new Counter({
      name: 'portico_http_requests_shed_total',
      help: 'Requests turned away with 503 because they had waited too long to be handled.',
      registers: [this.registry],
    });
    this.outbox = new Gauge({
      name: 'portico_outbox_messages',
      help: 'Mail in the outbox, by state: queued (waiting to be sent), sending, failed (for staff to look at).',
      labelNames: ['status'],
      registers: [this.registry],
      collect: async () => {
        if (this.outboxDepth === undefined) return;
        for (const [status, n] of Object.entries(await this.outboxDepth())) this.outbox.set({ status }, n);
      },
    });
    const droppedSoFar = () => this.droppedLines?.() ?? 0;
    this.logDropped = new Counter({
      name: 'portico_log_lines_dropped_total',
      help: 'Log lines no reader took (its pipe gone or full): dropped rather than let the server wait for it.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(droppedSoFar());
      },
    });
    this.dbUp = new Gauge({
      name: 'portico_database_up',
      help: '1 when the last readiness check reached the database.',
      registers: [this.registry],
    });
  }

  /** Where the dropped log lines are counted (the log destination). */
  trackDroppedLogLines(count: () => number): void {
    this.droppedLines = count;
  }

  /** Where the outbox gauge reads the queue's depth, at each scrape. */
  trackOutbox(depth: () => Promise<Record<string, number>>): void {
    this.outboxDepth = depth;
  }
}

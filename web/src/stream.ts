// The live stream (GET /api/v1/stream, README "Live stream"): EventSource with ?access_token= since it cannot
// send headers. EventSource reconnects by itself with Last-Event-ID; when the engine no longer keeps what we
// missed it sends `event: reset` and we refetch. A stream that closes for good (a revoked token answers 401)
// is reopened after a pause by the owner, which refetches too (a new EventSource has no Last-Event-ID).

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StreamHandlers {
  vehicles(data: unknown): void;
  alerts(data: unknown): void;
  events(data: unknown): void;
  dispatches(data: unknown): void;
  reset(): void;
  state(s: StreamState): void;
  /** the browser gave up on this EventSource (HTTP error, e.g. 401) */
  closed(): void;
}

const TOPICS = ['vehicles', 'alerts', 'events', 'dispatches'] as const;

export class LiveStream {
  private es: EventSource | null = null;

  constructor(
    private readonly token: string,
    private readonly on: StreamHandlers,
  ) {}

  open(): void {
    this.close();
    const es = new EventSource(`/api/v1/stream?topics=${TOPICS.join(',')}&access_token=${encodeURIComponent(this.token)}`);
    this.es = es;
    this.on.state('connecting');
    es.onopen = () => this.on.state('open');
    es.onerror = () => {
      if (this.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        this.on.state('closed');
        this.on.closed();
      } else {
        this.on.state('reconnecting');
      }
    };
    for (const topic of TOPICS) {
      es.addEventListener(topic, (e) => {
        let data: unknown;
        try {
          data = JSON.parse((e as MessageEvent<string>).data);
        } catch {
          return;
        }
        this.on[topic](data);
      });
    }
    es.addEventListener('reset', () => this.on.reset());
  }

  close(): void {
    this.es?.close();
    this.es = null;
  }
}

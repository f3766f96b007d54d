/** Counters a running proxy keeps; read by tests, the shutdown summary and (later) a status endpoint. */
export class Metrics {
  exchangesStarted = 0;
  exchangesFinished = 0;
  tunnelsOpened = 0;
  tunnelsClosed = 0;
  /** Connections that said CONNECT to an intercepted host and then did not speak TLS. */
  notTls = 0;
  tlsHandshakeFailures = 0;
  /** Errors llmtap answered with, by stable code. */
  readonly errors: Record<string, number> = {};

  count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  get inFlight(): number {
    return this.exchangesStarted - this.exchangesFinished;
  }
}

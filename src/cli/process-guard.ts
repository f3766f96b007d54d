import type { Logger } from '../log.js';
import type { Redactor } from '../redact/redactor.js';

/** The process events the guard listens to (a Node process, or an emitter standing in for one in a unit test). */
export interface GuardedProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  exit(code: number): void;
}

export interface GuardDeps {
  logger: Logger;
  /** The running redaction (replaced on reload): an error message can quote a header or a body. */
  redactor(): Redactor;
  /** Counted as the `internal` error code (llmtap_errors_total), so monitoring sees it as well as the log. */
  countInternal(): void;
}

/**
 * What the proxy does with a failure nothing caught. Node 20 ends the process on a
 * rejected promise nobody handles; for a proxy that every tool on a machine (or a
 * team) sends through, that turns one request's bug into an outage for all of them.
 * A rejection belongs to one asynchronous task whose request already has its own
 * outcome or none to give, and no other exchange depends on it: it is logged as an
 * error (redacted, with the stack), counted as `internal`, and the proxy goes on.
 *
 * A synchronous exception that reached the top is different: it may have stopped code
 * halfway through changing shared state (a pool, the recorder's queue), so going on
 * could do worse than stopping. It is logged the same way, the log is flushed, and the
 * process exits with 1, as Node would have — a supervisor restarts it.
 */
export function guardProcess(proc: GuardedProcess, deps: GuardDeps): void {
  proc.on('unhandledRejection', (reason) => {
    deps.countInternal();
    deps.logger.error({ code: 'internal', err: errorText(reason, deps.redactor()) }, 'unhandled rejection: logged, the proxy goes on');
  });
  proc.on('uncaughtException', (error) => {
    deps.countInternal();
    deps.logger.fatal({ code: 'internal', err: errorText(error, deps.redactor()) }, 'uncaught exception: exiting');
    deps.logger.flush?.();
    proc.exit(1);
  });
}

/** The stack when there is one (it starts with the message), else the value as text; redacted. */
export function errorText(reason: unknown, redactor: Redactor): string {
  const text = reason instanceof Error ? reason.stack ?? `${reason.name}: ${reason.message}` : safeString(reason);
  return redactor.text(text);
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    // A cycle, a throwing toJSON or toString, an object without a prototype.
    return Object.prototype.toString.call(value);
  }
}

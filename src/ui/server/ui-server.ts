import type { IncomingMessage, ServerResponse } from 'node:http';
import { FollowedReader } from '../../archive/followed-reader.js';
import type { PriceOverrides } from '../../cost/override-match.js';
import type { Recorder } from '../../recorder/recorder.js';
import type { Redactor } from '../../redact/redactor.js';
import { viewerFor } from './access.js';
import { LiveHub } from './live.js';
import { answerUi } from './routes.js';
import type { RefusedReload, RunningPolicy } from './policy-page.js';

export interface UiServerOptions {
  archiveFile: string;
  recorder: Recorder;
  redactor: () => Redactor;
  prices: () => PriceOverrides | undefined;
  authEnabled: () => boolean;
  admins: () => readonly string[];
  /** Proxy user → team, from the running policy's `teams:` (the charts can split by team). */
  teams: () => ReadonlyMap<string, string> | undefined;
  /** The running policy, its file and its budgets' ledger (the policy page). */
  policy: () => RunningPolicy | undefined;
  /** The last reload refused since it loaded. */
  refusedReload: () => RefusedReload | undefined;
  /** The last users file reload refused since the running users loaded. */
  refusedUsersReload: () => RefusedReload | undefined;
}

/** The web UI's state in the proxy: the live hub on the recorder, and a read connection to the archive while it exists (the file at its path, followed). */
export class UiServer {
  private readonly live: LiveHub;
  private readonly reader: FollowedReader;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: UiServerOptions) {
    this.reader = new FollowedReader(options.archiveFile);
    this.live = new LiveHub({ prices: options.prices, redactor: options.redactor, watchWritten: (observer) => options.recorder.onWritten(observer) });
    this.unsubscribe = options.recorder.onExchange(this.live.onExchange);
  }

  answer(req: IncomingMessage, res: ServerResponse, url: string, user: string | undefined): Promise<void> {
    return answerUi(req, res, url, user, { reader: () => this.reader.current(), live: this.live, authEnabled: this.options.authEnabled, admins: this.options.admins, teams: this.options.teams, policy: this.options.policy, refusedReload: this.options.refusedReload, refusedUsersReload: this.options.refusedUsersReload, archive: () => this.archiveState(), prices: this.options.prices });
  }

  /**
   * After a reload: a live stream was opened as a viewer the reload may have changed (a
   * user removed or given a new password, an admin no longer in `uiAdmins`, users where
   * there were none) and went on pushing what that viewer may no longer see. Those streams
   * end; the browser's EventSource reconnects, logging in again as the viewer it now is.
   */
  afterReload(changedUsers: ReadonlySet<string>): void {
    this.live.endStreams((viewer) => (viewer.user !== undefined && changedUsers.has(viewer.user))
      || viewerFor(viewer.user, this.options.authEnabled(), this.options.admins()).admin !== viewer.admin);
  }

  private archiveState(): { healthy: boolean; recorded: number; lost: number } {
    const { recorded, lost } = this.options.recorder.stats();
    return { healthy: this.options.recorder.healthy, recorded, lost };
  }

  close(): void {
    this.unsubscribe();
    this.live.close();
    this.reader.close();
  }
}

import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { dateTime, usd } from './format.js';
import { compact, usedWidth } from './policy-data.js';

interface PolicyPage {
  file: string | null;
  loaded_at: number;
  summary: string;
  teams: Record<string, string[]>;
  decisions_since: number;
  rules: {
    id: string; kind: string; mode: 'enforce' | 'monitor'; match: unknown; does: unknown;
    decisions: { exchanges: number; blocked: number; changed: number; warned: number; monitor: number; actions: Record<string, number> } | null;
  }[];
  budgets: {
    rule: string; per: string; period: string; period_start: number; period_end: number; budget_usd: number; warn_at: number; mode: string;
    /** An enforced budget rule above matches every request this one matches: it is never charged. */
    shadowed_by: string | null;
    keys: { key: string; spent_usd: number; used: number; state: 'ok' | 'warn' | 'spent' }[];
  }[];
}

interface RefusedReload { at: number; file: string; message: string; config?: string }

interface PolicyApi { policy: PolicyPage | null; refused_reload: RefusedReload | null; refused_users_reload: RefusedReload | null }

/**
 * The running policy for the UI's admins: every rule as written with what it decided
 * lately, the teams, and each budget's keys against their limit this period (the proxy's
 * own ledger, as /metrics exports it).
 */
export function PolicyView() {
  const [page, setPage] = useState<PolicyApi | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<PolicyApi>('/ui/api/policy').then(setPage, (err: Error) => setError(err.message));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!page) return <p class="dim">loading…</p>;
  const p = page.policy;
  const users = page.refused_users_reload;
  const refused = (
    <>
      {users && (
        <div class="refused-users-reload">
          <b>Users file reload refused</b> at {dateTime(users.at)} ({users.file}): <code>{users.message}</code>
          <div class="dim">Nobody was added or removed: the users loaded before it still log in.{users.config && <> The reload of {users.config} waits for it: {p ? 'the policy below, loaded before it, is still the one running' : 'no policy is running'}.</>}</div>
        </div>
      )}
      {page.refused_reload && (
        <div class="refused-reload">
          <b>Reload refused</b> at {dateTime(page.refused_reload.at)} ({page.refused_reload.file}): <code>{page.refused_reload.message}</code>
          <div class="dim">{p ? 'The policy below, loaded before it, is still the one running.' : 'No policy is running.'}</div>
        </div>
      )}
    </>
  );
  if (!p) return <section class="policy-page">{refused}<p class="empty">No policy is running: start the proxy with <code>--policy FILE</code> (or a config file's <code>policy</code> key).</p></section>;
  const teams = Object.entries(p.teams);
  return (
    <section class="policy-page">
      {refused}
      <p class="facts"><b>{p.file ?? 'policy'}</b> <span class="dim">{p.summary} · loaded {dateTime(p.loaded_at)}</span></p>
      <h2>Rules <span class="dim">(first match wins within each kind; decisions since {dateTime(p.decisions_since)})</span></h2>
      {/* On a phone the rules' nine columns scroll in their own box, not the page. */}
      <div class="table-box">
        <table class="list rules">
          <thead>
            <tr><th>rule</th><th>kind</th><th>match</th><th>does</th><th class="num">decided</th><th class="num">blocked</th><th class="num">changed</th><th class="num">warned</th><th class="num">monitor</th></tr>
          </thead>
          <tbody>
            {p.rules.map((r) => (
              <tr key={r.id} data-rule={r.id}>
                <td class="mono rule-id">{r.id}{r.mode === 'monitor' && <span class="tag">monitor</span>}</td>
                <td>{r.kind}</td>
                <td class="wrap">{compact(r.match) || <span class="dim">everything</span>}</td>
                <td class="wrap">{compact(r.does)}</td>
                <td class="num">{r.decisions?.exchanges ?? 0}</td><td class="num">{r.decisions?.blocked ?? 0}</td><td class="num">{r.decisions?.changed ?? 0}</td>
                <td class="num">{r.decisions?.warned ?? 0}</td><td class="num">{r.decisions?.monitor ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {teams.length > 0 && (
        <>
          <h2>Teams</h2>
          <ul class="teams">{teams.map(([team, users]) => <li key={team}><b>{team}</b>: {users.join(', ')}</li>)}</ul>
        </>
      )}
      {p.budgets.length > 0 && <h2>Budgets <span class="dim">(this period, as the proxy counts them)</span></h2>}
      {p.budgets.map((b) => (
        <div class="budget" key={b.rule} data-budget={b.rule}>
          <p><b class="mono">{b.rule}</b> {usd(b.budget_usd)} per {b.per} and {b.period}{b.mode === 'monitor' ? ' (monitor)' : ''} <span class="dim">· {dateTime(b.period_start)} to {dateTime(b.period_end)} · warns at {Math.round(b.warn_at * 100)}%</span></p>
          {b.shadowed_by !== null && <p class="dim shadowed">never applies: {b.shadowed_by}, above it and enforced, matches every request it matches{b.keys.length > 0 ? ' (spent below before a reload put it there)' : ''}</p>}
          {/* A rule shadowed since a reload keeps what it was charged before: shown, under the note. */}
          {b.keys.length === 0 ? (b.shadowed_by === null && <p class="dim">nothing spent yet this period</p>) : (
            <div class="table-box">
              <table class="list">
                <thead><tr><th>key</th><th class="num">spent</th><th>of the budget</th><th>state</th></tr></thead>
                <tbody>
                  {b.keys.map((k) => (
                    <tr key={k.key} data-key={k.key}>
                      <td class="mono">{k.key}</td><td class="num">{usd(k.spent_usd)}</td>
                      <td><span class="bar"><span class={`fill ${k.state}`} style={{ width: usedWidth(k.used) }} /></span> {Math.round(k.used * 100)}%</td>
                      <td class={`state ${k.state}`}>{k.state}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      ))}
    </section>
  );
}

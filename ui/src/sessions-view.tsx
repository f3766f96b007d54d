import { useEffect, useState } from 'preact/hooks';
import { getJson, type SessionJson } from './api.js';
import { dateTime, ms, tokens, usd } from './format.js';

export function SessionsView() {
  const [sessions, setSessions] = useState<SessionJson[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<{ sessions: SessionJson[] }>('/ui/api/sessions').then((r) => setSessions(r.sessions), (err: Error) => setError(err.message));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!sessions) return <p class="dim">loading…</p>;
  if (sessions.length === 0) return <p class="empty">No sessions recorded yet.</p>;
  return (
    <table class="list">
      <thead><tr><th>session</th><th>started</th><th class="num">duration</th><th>tool</th><th>models</th><th class="num">threads</th><th class="num">turns</th><th class="num">in</th><th class="num">out</th><th class="num">cost</th><th>user</th></tr></thead>
      <tbody>
        {sessions.map((s) => (
          <tr key={s.id}>
            <td class="mono"><a href={`#/session/${encodeURIComponent(s.id)}`}>{s.id.slice(0, 16)}</a></td>
            <td class="mono">{dateTime(s.started_at)}</td><td class="num">{ms(s.duration_ms)}</td><td>{s.tool ?? '–'}</td><td>{s.models.join(', ')}</td>
            <td class="num">{s.threads}</td><td class="num">{s.turns}</td><td class="num">{tokens(s.tokens.input)}</td><td class="num">{tokens(s.tokens.output)}</td>
            <td class="num">{usd(s.cost_usd, s.api_equivalent)}</td><td>{s.client.user ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

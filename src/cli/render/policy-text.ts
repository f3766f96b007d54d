import type { Decision, PolicyRecord } from '../../policy/types.js';
import { usd } from './format.js';

/**
 * One line per decision, as `show` prints them: rule id, kind, action, what changed,
 * and `monitor` when nothing was enforced. Kinds this build does not know (a newer
 * archive) print their rule, kind and action.
 */
export function decisionLines(record: PolicyRecord): string[] {
  const lines = record.decisions.map((d) => `${d.enforced ? '' : 'monitor: '}${d.rule} · ${d.kind}${d.action === d.kind ? '' : ` ${d.action}`}${detail(d)}`);
  if (record.blocked) lines.push(`refused: ${record.blocked}`);
  else if (record.bodyChanged) {
    // Answered from the cache, nothing went upstream: the change is in what was kept (and keyed).
    const served = record.decisions.some((d) => d.kind === 'cache' && d.action === 'hit' && d.enforced);
    lines.push(served ? 'the body recorded (answered from the cache) differs from the one the client sent' : 'the body sent upstream differs from the one the client sent');
  }
  return lines;
}

function detail(d: Decision): string {
  switch (d.kind) {
    case 'access':
      // Decided on a request inside a WebSocket session: the model that request named.
      return d.model === undefined ? '' : ` · request for ${d.model}`;
    case 'redact':
      return ` · ${d.hits.map((h) => `${h.detector}×${h.count} at ${h.at}`).join(', ')}${d.notApplied ? ` · not replaced (${d.notApplied}); refused` : ''}`;
    case 'rateLimit':
      return ` · ${d.limit} for ${d.key}, retry after ${d.retryAfterSeconds}s`;
    case 'budget':
      return ` · ${d.key} spent ${usd(d.spentUsd)} of ${usd(d.limitUsd)} this ${d.period} (from ${d.periodStart.slice(0, 10)})`;
    case 'limits':
      return d.limit === 'requestBytes' ? ` · body ${d.from} bytes, limit ${d.to}` : ` · ${d.field} ${d.from} → ${d.to}${d.notApplied ? ` not applied (${d.notApplied})` : ''}`;
    case 'cache':
      // A monitor rule never serves: its hit says what it would have done, the request went upstream.
      return ` · key ${d.key}${d.ageSeconds === undefined ? '' : `, ${d.ageSeconds}s old`}${d.action === 'hit' && !d.enforced ? ' · would have answered from the cache; forwarded' : ''}`;
    case 'route': {
      // A record from another build may name none of these: no empty separator then.
      const model = d.model && `model ${d.model}${d.modelNotApplied ? ` not applied (${d.modelNotApplied})` : ''}`;
      const what = [d.upstream && `to ${d.upstream}`, model, d.pathPrefix && `path prefix ${d.pathPrefix}${d.pathPrefixNotApplied ? ` not applied (${d.pathPrefixNotApplied})` : ''}`].filter(Boolean).join(', ');
      return what ? ` · ${what}` : '';
    }
    case 'fallback':
      return ` · ${d.upstreams.join(', ')} on ${d.on.join(', ')}${d.skipped ? ` (skipped: ${d.skipped})` : ''}`;
    case 'credentials':
      return ` · ${d.header} from ${d.source} for ${d.upstream}`;
    default:
      return '';
  }
}

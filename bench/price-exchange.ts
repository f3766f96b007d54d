/** µs per priceExchange call (it runs once per exchange in the archive writer thread): `node --import tsx bench/price-exchange.ts`. */
import { priceExchange } from '../src/cost/price-exchange.js';
import { calcPrice } from '@pydantic/genai-prices';
const at = Date.now();
const cases: any[] = [
  { provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-4o-2024-08-06', usage: { inputTokens: 12000, cachedInputTokens: 8000, outputTokens: 500 } },
  { provider: 'anthropic', host: 'api.anthropic.com', api: 'messages', model: 'claude-sonnet-4-5-20250929', usage: { inputTokens: 10, cachedInputTokens: 8000, cacheCreationInputTokens: 2000, outputTokens: 500 } },
  { provider: 'bedrock', host: 'bedrock-runtime.us-east-1.amazonaws.com', api: 'bedrock.converse', model: 'us.anthropic.claude-sonnet-4-20250514-v1:0', usage: { inputTokens: 10, outputTokens: 500 } },
  { provider: 'openrouter', host: 'openrouter.ai', api: 'chat.completions', model: 'anthropic/claude-sonnet-4', usage: { inputTokens: 10, outputTokens: 500 } },
  { provider: 'openrouter', host: 'openrouter.ai', api: 'chat.completions', model: 'no-such/model', usage: { inputTokens: 10, outputTokens: 500 } },
];
const N = 50000;
for (const c of cases) {
  for (let i = 0; i < 5000; i++) priceExchange({ at, subscription: false, ...c });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) priceExchange({ at, subscription: false, ...c });
  const memo = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  const pid = ({ openai: 'openai', anthropic: 'anthropic', bedrock: 'aws', openrouter: 'openrouter' } as any)[c.provider];
  const u = { input_tokens: 12000, cache_read_tokens: 8000, output_tokens: 500 };
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < N / 5; i++) calcPrice(u, c.model, { providerId: pid, timestamp: new Date(at) });
  const raw = Number(process.hrtime.bigint() - t1) / 1e3 / (N / 5);
  console.log(`${c.provider} ${c.model}: priceExchange ${memo.toFixed(1)} µs; bare calcPrice by providerId ${raw.toFixed(1)} µs`);
}

import { describe, expect, it } from 'vitest';
import type { Usage } from '../../src/exchange.js';
import { GENAI_PRICES_VERSION, priceExchange, type PriceInput } from '../../src/cost/price-exchange.js';
import { oneHourWriteTopUp } from '../../src/cost/missing-rates.js';

/** USD for token counts at per-million rates: the expected values below are computed from published prices. */
function usd(...parts: Array<[tokens: number, perMillion: number]>): number {
  return parts.reduce((sum, [tokens, rate]) => sum + tokens * rate, 0) / 1e6;
}

const NOW = Date.parse('2026-12-01T12:00:00Z');

function price(parts: Partial<PriceInput> & { usage?: Usage }): ReturnType<typeof priceExchange> {
  return priceExchange({ host: 'example.invalid', at: NOW, subscription: false, ...parts });
}

describe('priceExchange: OpenAI family (prompt counts include cached tokens)', () => {
  it('gpt-4o chat: the cached part of prompt_tokens is charged once, at the cached rate', () => {
    // gpt-4o: $2.50/M input, $1.25/M cached input, $10/M output.
    const r = price({ provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-4o-2024-08-06', usage: { inputTokens: 12_000, cachedInputTokens: 8_000, outputTokens: 500 } });
    expect(r.usd).toBeCloseTo(usd([4_000, 2.5], [8_000, 1.25], [500, 10]), 12);
    expect(r.usd).not.toBeCloseTo(usd([12_000, 2.5], [8_000, 1.25], [500, 10]), 6);
    expect(r).toMatchObject({ source: 'api', matchedProvider: 'openai', matchedModel: 'gpt-4o', pricesVersion: GENAI_PRICES_VERSION });
  });

  it('gpt-5 responses: reasoning tokens are already inside output_tokens', () => {
    // gpt-5: $1.25/M input, $0.125/M cached, $10/M output.
    const r = price({ provider: 'openai', api: 'responses', model: 'gpt-5', usage: { inputTokens: 2_000, cachedInputTokens: 1_000, outputTokens: 1_000, reasoningTokens: 600 } });
    expect(r.usd).toBeCloseTo(usd([1_000, 1.25], [1_000, 0.125], [1_000, 10]), 12);
    const mini = price({ provider: 'openai', api: 'chat.completions', model: 'gpt-5-mini', usage: { inputTokens: 1_000, outputTokens: 1_000 } });
    // gpt-5-mini: $0.25/M input, $2/M output.
    expect(mini.usd).toBeCloseTo(usd([1_000, 0.25], [1_000, 2]), 12);
  });

  it('o3 was repriced on 2025-06-10: each exchange pays the price of its day', () => {
    // o3: $10/M input, $40/M output until 2025-06-09; $2/M and $8/M from 2025-06-10.
    const usage = { inputTokens: 10_000, outputTokens: 2_000 };
    const before = price({ provider: 'openai', api: 'chat.completions', model: 'o3', usage, at: Date.parse('2025-05-01T00:00:00Z') });
    const after = price({ provider: 'openai', api: 'chat.completions', model: 'o3', usage, at: Date.parse('2025-07-01T00:00:00Z') });
    expect(before.usd).toBeCloseTo(usd([10_000, 10], [2_000, 40]), 12);
    expect(after.usd).toBeCloseTo(usd([10_000, 2], [2_000, 8]), 12);
  });

  it('Azure: a deployment name is priced only through the model the answer names', () => {
    const usage = { inputTokens: 1_000, outputTokens: 100 };
    const named = price({ provider: 'azure-openai', host: 'acme.openai.azure.com', api: 'chat.completions', model: 'prod-chat', responseModel: 'gpt-4o-2024-08-06', usage });
    expect(named.usd).toBeCloseTo(usd([1_000, 2.5], [100, 10]), 12);
    expect(named.matchedProvider).toBe('azure');
    const bare = price({ provider: 'azure-openai', host: 'acme.openai.azure.com', api: 'chat.completions', model: 'prod-chat', usage });
    expect(bare.usd).toBeNull();
    expect(bare.reason).toContain('prod-chat');
  });
});

describe('priceExchange: Anthropic Messages (input_tokens exclude cache reads and writes)', () => {
  it('claude-sonnet-4: cache reads and writes come on top of input_tokens', () => {
    // Claude Sonnet 4: $3/M input, $3.75/M cache write (5 min), $0.30/M cache read, $15/M output.
    const r = price({ provider: 'anthropic', host: 'api.anthropic.com', api: 'messages', model: 'claude-sonnet-4-20250514', usage: { inputTokens: 50, cachedInputTokens: 20_000, cacheCreationInputTokens: 3_000, outputTokens: 800 } });
    expect(r.usd).toBeCloseTo(usd([50, 3], [20_000, 0.3], [3_000, 3.75], [800, 15]), 12);
    expect(r.matchedProvider).toBe('anthropic');
  });

  it('claude opus 4.1 and haiku 4.5', () => {
    const usage = { inputTokens: 1_000, outputTokens: 1_000 };
    // Opus 4.1: $15/M in, $75/M out. Haiku 4.5: $1/M in, $5/M out.
    expect(price({ provider: 'anthropic', api: 'messages', model: 'claude-opus-4-1-20250805', usage }).usd).toBeCloseTo(usd([1_000, 15], [1_000, 75]), 12);
    expect(price({ provider: 'anthropic', api: 'messages', model: 'claude-haiku-4-5', usage }).usd).toBeCloseTo(usd([1_000, 1], [1_000, 5]), 12);
  });

  it('claude-sonnet-4-5 long context: past 200k prompt tokens (cache reads included) every token costs the long-context rate', () => {
    // Sonnet 4.5 over 200k input: $6/M input, $0.60/M cache read, $22.50/M output (base $3, $0.30, $15).
    const long = price({ provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-5-20250929', usage: { inputTokens: 150_000, cachedInputTokens: 100_000, outputTokens: 2_000 } });
    expect(long.usd).toBeCloseTo(usd([150_000, 6], [100_000, 0.6], [2_000, 22.5]), 12);
    const short = price({ provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-5-20250929', usage: { inputTokens: 150_000, cachedInputTokens: 10_000, outputTokens: 2_000 } });
    expect(short.usd).toBeCloseTo(usd([150_000, 3], [10_000, 0.3], [2_000, 15]), 12);
  });
});

describe('priceExchange: Google, Vertex, Bedrock', () => {
  it('gemini-2.5-flash: thinking tokens (thoughtsTokenCount) are billed as output', () => {
    // Gemini 2.5 Flash: $0.30/M input, $0.03/M cached, $2.50/M output (thinking included).
    const r = price({ provider: 'gemini', host: 'generativelanguage.googleapis.com', api: 'gemini.generateContent', model: 'gemini-2.5-flash', usage: { inputTokens: 5_000, cachedInputTokens: 4_000, outputTokens: 300, reasoningTokens: 700 } });
    expect(r.usd).toBeCloseTo(usd([1_000, 0.3], [4_000, 0.03], [1_000, 2.5]), 12);
    expect(r.matchedProvider).toBe('google');
  });

  it('gemini-2.5-pro: prompts over 200k tokens cost the long-context rate', () => {
    // Gemini 2.5 Pro: $1.25/M in and $10/M out up to 200k prompt tokens; $2.50/M and $15/M beyond.
    const short = price({ provider: 'gemini', api: 'gemini.generateContent', model: 'gemini-2.5-pro', usage: { inputTokens: 100_000, outputTokens: 1_000 } });
    const long = price({ provider: 'gemini', api: 'gemini.generateContent', model: 'gemini-2.5-pro', usage: { inputTokens: 250_000, outputTokens: 1_000 } });
    expect(short.usd).toBeCloseTo(usd([100_000, 1.25], [1_000, 10]), 12);
    expect(long.usd).toBeCloseTo(usd([250_000, 2.5], [1_000, 15]), 12);
  });

  it('Vertex AI: Claude ids with @date and Gemini models', () => {
    const usage = { inputTokens: 1_000, outputTokens: 1_000 };
    const claude = price({ provider: 'vertex-ai', host: 'us-east5-aiplatform.googleapis.com', api: 'messages', model: 'claude-sonnet-4@20250514', usage: { ...usage, cachedInputTokens: 2_000 } });
    expect(claude.usd).toBeCloseTo(usd([1_000, 3], [2_000, 0.3], [1_000, 15]), 12);
    const gemini = price({ provider: 'vertex-ai', api: 'gemini.generateContent', model: 'gemini-2.5-flash', usage });
    expect(gemini.usd).toBeCloseTo(usd([1_000, 0.3], [1_000, 2.5]), 12);
  });

  it('Bedrock: model ids and cross-region inference profiles; Converse counts cache reads apart', () => {
    // Claude 3.5 Sonnet v2 on Bedrock: $3/M input, $0.30/M cache read, $15/M output.
    for (const model of ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0']) {
      const r = price({ provider: 'bedrock', host: 'bedrock-runtime.us-east-1.amazonaws.com', api: 'bedrock.converse', model, usage: { inputTokens: 1_000, cachedInputTokens: 5_000, outputTokens: 200 } });
      expect(r.usd).toBeCloseTo(usd([1_000, 3], [5_000, 0.3], [200, 15]), 12);
      expect(r.matchedProvider).toBe('aws');
    }
    // Amazon Nova Pro: $0.80/M input, $3.20/M output. Llama 3.3 70B: $0.72/M both ways.
    expect(price({ provider: 'bedrock', api: 'bedrock.converse', model: 'amazon.nova-pro-v1:0', usage: { inputTokens: 1_000, outputTokens: 1_000 } }).usd).toBeCloseTo(usd([1_000, 0.8], [1_000, 3.2]), 12);
    expect(price({ provider: 'bedrock', api: 'bedrock.invoke', model: 'us.meta.llama3-3-70b-instruct-v1:0', usage: { inputTokens: 1_000, outputTokens: 1_000 } }).usd).toBeCloseTo(usd([1_000, 0.72], [1_000, 0.72]), 12);
  });
});

describe('priceExchange: no price', () => {
  it('Bedrock: a price entry for another version of the model is not its price (Titan Text Embeddings V2 is not V1)', () => {
    const v2 = price({ provider: 'bedrock', api: 'bedrock.invoke', model: 'amazon.titan-embed-text-v2:0', usage: { inputTokens: 1_000 } });
    expect(v2.usd).toBeNull();
    expect(v2.reason).toContain('another version');
    expect(price({ provider: 'bedrock', api: 'bedrock.invoke', model: 'amazon.titan-embed-text-v1', usage: { inputTokens: 1_000 } }).usd).toBeCloseTo(usd([1_000, 0.1]), 12);
  });

  it('a part the price data has no rate for is never charged at another part\'s rate, nor at nothing', () => {
    // Claude on Vertex: the package has 5-minute write rates only, and would charge a 1-hour
    // write at it; Anthropic's rule (twice the input rate) prices it.
    const vertex = { provider: 'vertex-ai', host: 'us-east5-aiplatform.googleapis.com', api: 'messages', model: 'claude-sonnet-4-5@20250929' };
    expect(price({ ...vertex, usage: { inputTokens: 10, cacheCreationInputTokens: 1_000, outputTokens: 10 } }).usd).toBeCloseTo(usd([10, 3], [1_000, 3.75], [10, 15]), 12);
    expect(price({ ...vertex, usage: { inputTokens: 10, cacheCreationInputTokens: 1_000, cacheCreation1hTokens: 600, outputTokens: 10 } }).usd)
      .toBeCloseTo(usd([10, 3], [400, 3.75], [600, 6], [10, 15]), 12);
    // The rule is Anthropic's: another model's price without a 1-hour rate gets no such top-up.
    expect(oneHourWriteTopUp({ input_tokens: 1_000, cache_write_tokens: 1_000, cache_write_1h_tokens: 1_000, output_tokens: 0 }, { input_mtok: 1, cache_write_mtok: 1.25 }, 'some-model')).toBeUndefined();
    expect(oneHourWriteTopUp({ input_tokens: 1_000, cache_write_tokens: 1_000, cache_write_1h_tokens: 1_000, output_tokens: 0 }, { input_mtok: 1, cache_write_mtok: 1.25 }, 'claude-x')).toBeCloseTo(1_000 * 0.75 / 1e6, 15);
    // gpt-4.1-nano: no web or file search fee in the package (gpt-4.1's are there), so not zero either.
    const nano = { provider: 'openai', host: 'api.openai.com', api: 'responses', model: 'gpt-4.1-nano' };
    expect(price({ ...nano, usage: { inputTokens: 10, outputTokens: 10 } }).usd).not.toBeNull();
    expect(price({ ...nano, usage: { inputTokens: 10, outputTokens: 10, webSearches: 1, fileSearches: 2 } })).toMatchObject({
      usd: null, reason: `no price for the web searches and file searches of "gpt-4.1-nano" in ${GENAI_PRICES_VERSION}; add web_searches_kcount, file_searches_kcount with --prices`,
    });
    // OpenAI's own: $10 per thousand web searches, $2.50 per thousand file searches.
    expect(price({ provider: 'openai', host: 'api.openai.com', api: 'responses', model: 'gpt-4.1', usage: { inputTokens: 10, outputTokens: 10, webSearches: 1, fileSearches: 2 } }).usd).toBeCloseTo(usd([10, 2], [10, 8]) + 0.01 + 0.005, 12);
  });

  it('an unknown model is null with the reason, never a guess', () => {
    const r = price({ provider: 'openai', api: 'chat.completions', model: 'gpt-unreleased-9', usage: { inputTokens: 1, outputTokens: 1 } });
    expect(r.usd).toBeNull();
    expect(r.reason).toMatch(/unknown model "gpt-unreleased-9"/);
    // A second lookup comes from the memo and says the same.
    expect(price({ provider: 'openai', api: 'chat.completions', model: 'gpt-unreleased-9', usage: { inputTokens: 1, outputTokens: 1 } })).toEqual(r);
  });

  it('local models (Ollama, a server on a private address) are null: not billed per token', () => {
    const usage = { inputTokens: 100, outputTokens: 100 };
    expect(price({ provider: 'ollama', host: 'localhost', api: 'ollama.chat', model: 'llama3.2', usage })).toMatchObject({ usd: null, reason: expect.stringContaining('local model') });
    expect(price({ provider: 'openai-compatible', host: '192.168.1.20', api: 'chat.completions', model: 'gpt-4o', usage })).toMatchObject({ usd: null, reason: expect.stringContaining('local model') });
  });

  it('no usage or no model: null with a reason; countTokens costs nothing', () => {
    expect(price({ provider: 'openai', model: 'gpt-4o' })).toMatchObject({ usd: null, reason: 'no usage recorded' });
    expect(price({ provider: 'openai', usage: { inputTokens: 5 } })).toMatchObject({ usd: null, reason: 'no model recorded' });
    expect(price({ provider: 'gemini', api: 'gemini.countTokens', model: 'gemini-2.5-pro' })).toMatchObject({ usd: 0 });
  });
});

describe('priceExchange: subscriptions', () => {
  it('subscription traffic is priced as the API would have charged, marked api_equivalent', () => {
    const usage = { inputTokens: 40, cachedInputTokens: 30_000, cacheCreationInputTokens: 1_000, outputTokens: 1_200 };
    const viaKey = price({ provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-20250514', usage });
    const viaOAuth = price({ provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-20250514', usage, subscription: true });
    expect(viaOAuth.source).toBe('api_equivalent');
    expect(viaKey.source).toBe('api');
    expect(viaOAuth.usd).toBeCloseTo(usd([40, 3], [30_000, 0.3], [1_000, 3.75], [1_200, 15]), 12);
  });

  it('Codex with ChatGPT sign-in and Copilot are priced by the model they name', () => {
    // gpt-5-codex is priced as gpt-5 ($1.25/M in, $10/M out); Copilot's claude-sonnet-4 as Anthropic's ($3/$15).
    const codex = price({ provider: 'chatgpt', host: 'chatgpt.com', api: 'responses', model: 'gpt-5-codex', usage: { inputTokens: 1_000, outputTokens: 1_000 }, subscription: true });
    expect(codex).toMatchObject({ source: 'api_equivalent', matchedProvider: 'openai' });
    expect(codex.usd).toBeCloseTo(usd([1_000, 1.25], [1_000, 10]), 12);
    const copilot = price({ provider: 'github-copilot', host: 'api.githubcopilot.com', api: 'chat.completions', model: 'claude-sonnet-4', usage: { inputTokens: 1_000, outputTokens: 1_000 }, subscription: true });
    expect(copilot.usd).toBeCloseTo(usd([1_000, 3], [1_000, 15]), 12);
  });

  it('text Completions are priced by their model like any other API; Copilot\'s completion engines are not on the list', () => {
    // gpt-3.5-turbo-instruct: $1.5/M in, $2/M out; cached tokens count as OpenAI's do (inside the input).
    const instruct = price({ provider: 'openai', api: 'completions', model: 'gpt-3.5-turbo-instruct', usage: { inputTokens: 1_000, outputTokens: 1_000 } });
    expect(instruct.usd).toBeCloseTo(usd([1_000, 1.5], [1_000, 2]), 12);
    const copilot = price({ provider: 'github-copilot', host: 'proxy.individual.githubcopilot.com', api: 'completions', model: 'gpt-41-copilot', usage: { inputTokens: 1_000, outputTokens: 10 }, subscription: true });
    expect(copilot).toMatchObject({ usd: null, source: 'api_equivalent' });
  });
});

describe('priceExchange: memoized lookups', () => {
  it('price every model of the main providers exactly as a fresh package lookup does, on the first call and from the memo', async () => {
    const { calcPrice, findProvider } = await import('@pydantic/genai-prices');
    const providers: Array<[llmtap: string, pkg: string]> = [['openai', 'openai'], ['anthropic', 'anthropic'], ['gemini', 'google'], ['bedrock', 'aws'], ['mistral', 'mistral'], ['deepseek', 'deepseek'], ['xai', 'x-ai']];
    const at = Date.parse('2026-03-01T03:00:00Z');
    let compared = 0;
    for (const [llmtap, pkg] of providers) {
      for (const model of findProvider({ providerId: pkg })!.models) {
        // Chat Completions counts: prompt_tokens include the cached part.
        const usage = { inputTokens: 3_000, cachedInputTokens: 1_000, outputTokens: 700 };
        const expected = calcPrice({ input_tokens: 3_000, cache_read_tokens: 1_000, output_tokens: 700 }, model.id, { providerId: pkg, timestamp: new Date(at) });
        for (let round = 0; round < 2; round++) {
          const r = priceExchange({ provider: llmtap, host: 'h', api: 'chat.completions', model: model.id, usage, at, subscription: false });
          expect(r.usd, `${pkg}/${model.id}`).toBe(expected?.total_price ?? null);
          if (expected) expect(r.matchedModel).toBe(expected.model.id);
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(200);
  });
});

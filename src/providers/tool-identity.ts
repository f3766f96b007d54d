import { headerValue, type RawHeaders } from '../exchange.js';

/** Which program made a request: `claude-code`, `codex`, `openai-sdk-node`, `curl`, … and its version. */
export interface ToolIdentity {
  name: string;
  version?: string;
}

interface Rule {
  name: string;
  /** Matched against the User-Agent; group 1 is the version. */
  ua?: RegExp;
  /** Or decided from other headers (Codex's `originator`, Copilot's integration id, …). */
  headers?: (headers: RawHeaders, ua: string) => ToolIdentity | undefined;
}

const V = '([0-9][0-9A-Za-z.+-]*)';
// Built once (no `g` flag, so exec keeps no state): a RegExp per request was garbage.
const CODEX_UA = new RegExp(`^(codex_[a-z_]+)/${V}`);
// Copilot Chat (GitHubCopilotChat/…), and the inline-suggestions extension and language server (GithubCopilot/…).
const COPILOT_UA = new RegExp(`\\bGit[Hh]ubCopilot(?:Chat)?/${V}`);
// Editor-Plugin-Version: copilot-chat/…, copilot/… (VS Code), copilot-intellij/…, copilot.vim/….
const COPILOT_PLUGIN = new RegExp(`^copilot(?:-chat|-intellij|\\.vim)?/${V}`);
const GENAI_CLIENT = new RegExp(`google-genai-sdk/${V}`);

/**
 * First match wins, so agents come before the SDKs they are built on (Claude Code sends
 * the Anthropic SDK's x-stainless-* headers; Codex and Copilot have their own) and SDKs
 * before the HTTP libraries. User-Agent shapes as these tools send them, e.g.
 * `claude-cli/1.0.83 (external, cli)`, `codex_cli_rs/0.46.0 (Mac OS 15.6.1; arm64) iTerm.app/3.6.1`,
 * `codex_exec/0.46.0 (Ubuntu 24.4.0; x86_64) xterm-256color`, `GeminiCLI/0.1.5 (darwin; arm64)`,
 * `GitHubCopilotChat/0.22.4`, `OpenAI/JS 6.3.0`, `Anthropic/Python 0.40.0`,
 * `google-genai-sdk/1.12.0 gl-node/v20.19.0`, `python-httpx/0.28.1`.
 */
const RULES: readonly Rule[] = [
  { name: 'claude-code', ua: new RegExp(`^claude-cli/${V}`) },
  {
    name: 'codex',
    // Codex CLI (codex_cli_rs), `codex exec` (codex_exec), the IDE extension (codex_vscode…):
    // the originator header names the front end; the User-Agent starts with it and its version.
    headers: (h, ua) => {
      const originator = headerValue(h, 'originator');
      const m = CODEX_UA.exec(ua);
      if (!m && !originator?.startsWith('codex')) return undefined;
      return withVersion('codex', m?.[2]);
    },
  },
  { name: 'gemini-cli', ua: new RegExp(`^GeminiCLI/${V}`) },
  { name: 'cursor', ua: new RegExp(`\\bCursor/${V}`) },
  {
    name: 'copilot',
    headers: (h, ua) => {
      const m = COPILOT_UA.exec(ua) ?? COPILOT_PLUGIN.exec(headerValue(h, 'editor-plugin-version') ?? '');
      if (m) return withVersion('copilot', m[1]);
      return headerValue(h, 'copilot-integration-id') !== undefined ? { name: 'copilot' } : undefined;
    },
  },
  {
    name: 'aider',
    // aider calls through litellm and the openai SDK; it names itself to OpenRouter-style attribution headers.
    headers: (h, ua) => (/\baider\b/i.test(`${headerValue(h, 'x-title') ?? ''} ${headerValue(h, 'http-referer') ?? ''} ${ua}`) ? { name: 'aider' } : undefined),
  },
  { name: 'opencode', ua: new RegExp(`\\bopencode/${V}`) },
  { name: 'langchain', ua: new RegExp(`\\blangchain[\\w-]*/${V}`, 'i') },
  { name: 'openai-sdk', headers: (h, ua) => sdk('openai-sdk', /^OpenAI\/(JS|Python) ([^\s]+)/.exec(ua), h) },
  { name: 'anthropic-sdk', headers: (h, ua) => sdk('anthropic-sdk', /^Anthropic\/(JS|Python) ([^\s]+)/.exec(ua), h) },
  {
    name: 'google-genai-sdk',
    headers: (h, ua) => {
      const client = `${headerValue(h, 'x-goog-api-client') ?? ''} ${ua}`;
      const m = GENAI_CLIENT.exec(client);
      if (!m) return undefined;
      const lang = /gl-(node|python|go|java)\//.exec(client)?.[1];
      return withVersion(lang ? `google-genai-sdk-${lang}` : 'google-genai-sdk', m[1]);
    },
  },
  { name: 'ollama-js', ua: new RegExp(`^ollama-js/${V}`) },
  { name: 'aws-sdk', ua: new RegExp(`^aws-sdk-(?:js|python|java|go)[\\w-]*/${V}`) },
  { name: 'curl', ua: new RegExp(`^curl/${V}`) },
  { name: 'python-requests', ua: new RegExp(`^python-requests/${V}`) },
  { name: 'httpx', ua: new RegExp(`^python-httpx/${V}`) },
  { name: 'edge', ua: new RegExp(`^Mozilla/5\\.0 .*\\bEdg/${V}`) },
  { name: 'chrome', ua: new RegExp(`^Mozilla/5\\.0 .*\\b(?:Chrome|HeadlessChrome|Chromium)/${V}`) },
  { name: 'firefox', ua: new RegExp(`^Mozilla/5\\.0 .*\\bFirefox/${V}`) },
  { name: 'safari', ua: new RegExp(`^Mozilla/5\\.0 .*\\bVersion/${V}.* Safari/`) },
];

/**
 * Every header besides the User-Agent that RULES and identify() read: together they
 * decide the identity, so they are the memo's key (a test checks this list against
 * the headers this file reads).
 */
export const IDENTITY_HEADERS: readonly string[] = [
  'originator', 'editor-plugin-version', 'copilot-integration-id', 'x-title', 'http-referer',
  'x-goog-api-client', 'x-stainless-lang', 'x-stainless-package-version',
];

/**
 * The tool behind a request, from its User-Agent and known headers; unknown → the User-Agent's
 * first product token. The result is shared between requests that send the same identifying
 * headers (never change it): a client sends the same ones request after request, and running
 * every rule's regex was ~10 µs per request for a User-Agent no rule knows.
 */
export function identifyTool(headers: RawHeaders): ToolIdentity | undefined {
  // The policy stage and the recorder both ask for the same (never mutated) header array.
  if (headers === lastHeaders) return lastTool;
  let key = headerValue(headers, 'user-agent') ?? '';
  for (const name of IDENTITY_HEADERS) key += `\u0000${headerValue(headers, name) ?? ''}`;
  let tool = known.get(key);
  if (tool === undefined && !known.has(key)) {
    tool = identify(headers);
    // Bounded: odd clients (a version or id per request) cannot grow it.
    if (known.size >= 1024) known.clear();
    known.set(key, tool === undefined ? undefined : Object.freeze(tool));
  }
  lastTool = tool;
  lastHeaders = headers;
  return tool;
}

let lastHeaders: RawHeaders | undefined;
let lastTool: ToolIdentity | undefined;
const known = new Map<string, ToolIdentity | undefined>();

function identify(headers: RawHeaders): ToolIdentity | undefined {
  const ua = headerValue(headers, 'user-agent') ?? '';
  for (const rule of RULES) {
    if (rule.ua) {
      const m = rule.ua.exec(ua);
      if (m) return withVersion(rule.name, m[1]);
    } else {
      const found = rule.headers?.(headers, ua);
      if (found) return found;
    }
  }
  // Stainless-generated SDKs say who they are even when a wrapper replaced the User-Agent.
  const lang = headerValue(headers, 'x-stainless-lang');
  if (lang) return withVersion(`stainless-sdk-${lang}`, headerValue(headers, 'x-stainless-package-version'));
  const product = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\/([^\s]+))?/.exec(ua.trim());
  return product ? withVersion(product[1]!, product[2]) : undefined;
}

/** An official SDK, named by language: `openai-sdk-node`, `anthropic-sdk-python`. */
function sdk(name: string, m: RegExpExecArray | null, headers: RawHeaders): ToolIdentity | undefined {
  if (!m) return undefined;
  return withVersion(`${name}-${m[1] === 'JS' ? 'node' : 'python'}`, m[2] ?? headerValue(headers, 'x-stainless-package-version'));
}

function withVersion(name: string, version: string | undefined): ToolIdentity {
  return version ? { name, version } : { name };
}

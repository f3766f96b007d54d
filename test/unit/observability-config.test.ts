import { describe, expect, it } from 'vitest';
import { DEFAULTS, validateConfig } from '../../src/config.js';
import { loadConfigFile } from '../../src/config-file.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const check = (extra: object) => () => validateConfig({ ...DEFAULTS, home: '/tmp/x', ...extra });

describe('--metrics, --otlp-endpoint, --otlp-content', () => {
  it('refuses a bad endpoint in one line naming the flag', () => {
    expect(check({ otlpEndpoint: 'not a url' })).toThrow('--otlp-endpoint not a url: not a URL (e.g. http://127.0.0.1:4318/v1/traces)');
    expect(check({ otlpEndpoint: 'grpc://127.0.0.1:4317' })).toThrow('--otlp-endpoint grpc://127.0.0.1:4317: must be an http:// or https:// URL');
    expect(check({ otlpEndpoint: 'https://u:p@collector.example/v1/traces' })).toThrow('--otlp-endpoint: must not hold a user or password');
    expect(check({ otlpContent: true })).toThrow('--otlp-content: needs --otlp-endpoint URL');
    expect(check({ otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', otlpContent: true, metrics: true })).not.toThrow();
  });

  it('config file keys metrics, otlpEndpoint, otlpContent', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'llmtap-cfg-')), 'c.json');
    writeFileSync(file, JSON.stringify({ metrics: true, otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', otlpContent: false }));
    expect(loadConfigFile(file)).toEqual({ metrics: true, otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', otlpContent: false });
    writeFileSync(file, '{"metrics": "yes"}');
    expect(() => loadConfigFile(file)).toThrow(`${file}:1: "metrics" must be a boolean`);
  });
});

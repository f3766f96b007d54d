import { describe, expect, it } from 'vitest';
import { plainTargetPolicy, targetPolicyFor } from '../../src/proxy/admission.js';
import { plainTarget } from '../../src/proxy/plain-requests.js';

const config = { host: '127.0.0.1', allowTargets: ['db.internal'], intercept: ['localhost:11434'], allowPorts: undefined };

describe('targetPolicyFor and plainTargetPolicy', () => {
  it('a local proxy reaches any port; intercepted and allowed hosts are explicitly wanted', () => {
    const policy = targetPolicyFor(config, 8080);
    expect(policy).toMatchObject({ gateway: false, allowHosts: ['db.internal', 'localhost:11434'], allowedPorts: undefined, ownPort: 8080 });
    expect(plainTargetPolicy(policy, undefined).allowedPorts).toBeUndefined();
  });

  it('a gateway lets CONNECT reach 443 and plain HTTP 80, unless --allow-port says otherwise', () => {
    const gateway = targetPolicyFor({ ...config, host: '0.0.0.0' }, 443);
    expect(gateway.allowedPorts).toEqual([443]);
    expect(plainTargetPolicy(gateway, undefined).allowedPorts).toEqual([80]);
    const allowed = targetPolicyFor({ ...config, host: '0.0.0.0', allowPorts: [8443] }, 443);
    expect(allowed.allowedPorts).toEqual([8443]);
    expect(plainTargetPolicy(allowed, [8443]).allowedPorts).toEqual([8443]);
  });
});

describe('plainTarget', () => {
  it('reads host (lower case, no IPv6 brackets), port (80 by default), path with query, and the authority a Host names', () => {
    expect(plainTarget('http://LocalHost:11434/api/chat?x=1')).toEqual({ host: 'localhost', port: 11434, path: '/api/chat?x=1', authority: 'localhost:11434' });
    expect(plainTarget('http://[::1]/v1/models')).toEqual({ host: '::1', port: 80, path: '/v1/models', authority: '[::1]' });
    expect(plainTarget('http://Plain.Test:80/x')).toEqual({ host: 'plain.test', port: 80, path: '/x', authority: 'plain.test' });
  });

  it('refuses anything but an absolute http: URI', () => {
    expect(plainTarget('https://api.openai.com/v1/models')).toBeUndefined();
    expect(plainTarget('not a url')).toBeUndefined();
    expect(plainTarget('')).toBeUndefined();
  });
});

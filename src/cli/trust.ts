import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { readKeptCa } from '../gateway-client/gateway-ca.js';
import { gatewayAuthority, gatewayDirName, parseGateway } from '../gateway-client/gateway-url.js';
import { gatewayDir, gatewayShown } from './gateway-option.js';
import { loadOrCreateCa } from '../tls/ca.js';
import { detectTrustStore, nssDatabases, nssSteps, shellLine, systemSteps, type TrustStep } from '../trust/plan.js';
import { USAGE } from './command-table.js';

interface TrustArgs {
  home: string;
  gateway?: string;
  'dry-run': boolean;
  remove: boolean;
  nss: boolean;
  system: boolean;
}

const listDir = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** The subject CN, which macOS and Windows need to find the certificate again. */
export function commonNameOf(certPem: string): string {
  return /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(certPem).subject)?.[1] ?? 'llmtap CA';
}

export const trustCommand: CommandModule<{ home: string }, TrustArgs> = {
  ...USAGE.trust,
  builder: (y: Argv<{ home: string }>) => y
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the commands instead of running them' })
    .option('remove', { type: 'boolean', default: false, describe: 'remove the llmtap CA from the stores instead' })
    .option('nss', { type: 'boolean', default: false, describe: "also the NSS databases of Chromium (~/.pki/nssdb) and Firefox profiles (needs certutil, libnss3-tools)" })
    .option('system', { type: 'boolean', default: true, describe: 'the system store (--no-system: NSS databases only)' })
    .option('gateway', { type: 'string', describe: "the CA kept for a team's gateway (by llmtap env/run/doctor --gateway) instead of this machine's own" })
    .check((a) => {
      const parsed = a.gateway === undefined ? undefined : parseGateway(a.gateway);
      if (parsed && 'error' in parsed) throw new Error(parsed.error);
      return true;
    }) as unknown as Argv<TrustArgs>,
  handler: (args) => {
    const ca = args.gateway === undefined ? localCa(args.home) : gatewayCa(args.home, args.gateway);
    const input = { caPemPath: ca.certPath, caCommonName: commonNameOf(ca.certPem), remove: args.remove, name: ca.name };
    const steps: TrustStep[] = [];
    if (args.system) {
      const store = detectTrustStore({ os: process.platform, exists: existsSync });
      if (!store) fail('no known system trust store here (looked for update-ca-certificates and update-ca-trust); use --no-system --nss, or `llmtap env` / `llmtap run` per tool');
      steps.push(...systemSteps(store, input));
    }
    if (args.nss) {
      const dbs = nssDatabases(homedir(), listDir, existsSync);
      if (dbs.length === 0) process.stderr.write(`llmtap: --nss: no NSS database under ${homedir()} (~/.pki/nssdb, Firefox profiles); start the browser once to create one\n`);
      steps.push(...nssSteps(dbs, input));
    }
    if (args['dry-run']) {
      for (const step of steps) process.stdout.write(`${step.privileged && !isRoot() ? 'sudo ' : ''}${shellLine(step.argv)}\n`);
      return;
    }
    if (process.platform !== 'win32' && !isRoot() && steps.some((s) => s.privileged)) {
      fail(`writing the system trust store needs root; run: sudo ${shellLine(['llmtap', 'trust', ...ca.flags, '--home', args.home, ...(args.remove ? ['--remove'] : [])])} (or --dry-run to see the commands)`);
    }
    for (const step of steps) run(step);
    const verb = args.remove ? 'removed' : 'trusted';
    process.stdout.write(`${verb} ${input.caCommonName} (SHA-256 ${ca.fingerprint}); check with: ${shellLine(['llmtap', 'doctor', ...ca.flags])}\n`);
  },
};

interface CaToTrust {
  certPath: string;
  certPem: string;
  fingerprint: string;
  /** Its anchor file's and NSS nickname's name: each gateway's apart from this machine's own. */
  name: string;
  /** The flags that name it again (`--gateway URL`, its password left out). */
  flags: string[];
}

function localCa(home: string): CaToTrust {
  const { ca } = loadOrCreateCa(paths(home).certs);
  return { certPath: ca.certPath, certPem: ca.certPem, fingerprint: ca.fingerprint256, name: 'llmtap', flags: [] };
}

/** The CA `env`/`run`/`doctor --gateway` fetched and kept (already checked against its fingerprint there); nothing is fetched as root. */
function gatewayCa(home: string, text: string): CaToTrust {
  const gateway = parseGateway(text);
  if ('error' in gateway) fail(gateway.error);
  const kept = readKeptCa(gatewayDir(home, gateway));
  if (!kept) fail(`no CA kept for the gateway at ${gatewayAuthority(gateway)} under ${home}: run llmtap env --gateway ${gatewayShown(gateway)} as yourself first (it fetches the CA), then this with --home ${home}`);
  return { certPath: kept.certPath, certPem: kept.pem, fingerprint: kept.fingerprint, name: `llmtap-gateway-${gatewayDirName(gateway)}`, flags: ['--gateway', gatewayShown(gateway)] };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function run(step: TrustStep): void {
  const result = spawnSync(step.argv[0] ?? '', step.argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    const hint = step.argv[0] === 'certutil' ? ' (install libnss3-tools / nss-tools)' : '';
    fail(`${step.argv[0]} not found${hint}; the command was: ${shellLine(step.argv)}`);
  }
  // Removing what is not there is success: --remove must be safe to run twice.
  const absent = step.argv[0] === 'certutil' && step.argv[1] === '-D' && /could not find|not found/i.test(result.stderr);
  if (result.status !== 0 && !absent) {
    const why = (result.stderr || result.stdout || '').trim().split('\n').pop() ?? '';
    fail(`${shellLine(step.argv)} failed (exit ${result.status ?? result.signal}): ${why}`);
  }
}

function fail(message: string): never {
  process.stderr.write(`llmtap: ${message}\n`);
  process.exit(1);
}

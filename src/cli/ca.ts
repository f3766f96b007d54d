import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { makeInterceptList } from '../proxy/route.js';
import { DOCTOR_HOST } from '../proxy/doctor-echo.js';
import { caCertDer, loadOrCreateCa, regenerateCa } from '../tls/ca.js';
import { constraintBases, nameConstraintsExtension } from '../tls/name-constraints.js';

interface CaArgs {
  home: string;
  der?: string;
  regenerate: boolean;
  'name-constrained': boolean;
  intercept: string[];
}

export const caCommand: CommandModule<{ home: string }, CaArgs> = {
  command: 'ca',
  describe: 'show the CA certificate path and SHA-256 fingerprint (created if missing)',
  builder: (y: Argv<{ home: string }>) => y
    .option('der', { type: 'string', describe: 'also write the CA certificate in DER form to FILE ("-" for stdout)' })
    .option('regenerate', { type: 'boolean', default: false, describe: 'replace the CA with a new one (clients must trust the new one: llmtap trust)' })
    .option('name-constrained', { type: 'boolean', default: false, describe: 'with --regenerate: a CA that can only sign for the intercept-list domains' })
    .option('intercept', { type: 'string', array: true, default: [], describe: 'with --name-constrained: extra intercepted hosts to permit (as for start)' })
    .check((a) => {
      if (a['name-constrained'] && !a.regenerate) throw new Error('--name-constrained needs --regenerate (a CA cannot be constrained after the fact)');
      return true;
    }) as unknown as Argv<CaArgs>,
  handler: (args) => {
    const certs = paths(args.home).certs;
    let regenerated = '';
    if (args.regenerate) {
      // The doctor's own echo host is permitted too, so `llmtap doctor` works with any CA.
      const bases = constraintBases([...makeInterceptList(args.intercept).intercept, DOCTOR_HOST]);
      regenerateCa(certs, args['name-constrained'] ? [nameConstraintsExtension(bases)] : []);
      regenerated = `new CA${args['name-constrained'] ? ` limited to ${bases.dns.length + bases.ips.length} domains (${[...bases.dns, ...bases.ips].join(', ')})` : ''}; restart llmtap and run llmtap trust again\n`;
    }
    const { ca } = loadOrCreateCa(certs);
    if (args.der === '-') {
      process.stdout.write(caCertDer(ca));
      return;
    }
    if (args.der) writeFileSync(args.der, caCertDer(ca));
    process.stdout.write(`${regenerated}${ca.certPath}\nSHA-256 ${ca.fingerprint256}\n${args.der ? `DER written to ${args.der}\n` : ''}`);
  },
};

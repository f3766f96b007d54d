import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { makeInterceptList } from '../proxy/route.js';
import { DOCTOR_HOST } from '../proxy/doctor-echo.js';
import { caCertDer, loadOrCreateCa, regenerateCa } from '../tls/ca.js';
import { constraintBases, nameConstraintsExtension } from '../tls/name-constraints.js';
import { USAGE } from './command-table.js';

interface CaArgs {
  home: string;
  der?: string;
  regenerate: boolean;
  'name-constrained': boolean;
  intercept: string[];
  json: boolean;
}

export const caCommand: CommandModule<{ home: string }, CaArgs> = {
  ...USAGE.ca,
  builder: (y: Argv<{ home: string }>) => y
    .option('der', { type: 'string', describe: 'also write the CA certificate in DER form to FILE ("-" for stdout)' })
    .option('regenerate', { type: 'boolean', default: false, describe: 'replace the CA with a new one (clients must trust the new one: llmtap trust)' })
    .option('name-constrained', { type: 'boolean', default: false, describe: 'with --regenerate: a CA that can only sign for the intercept-list domains' })
    .option('intercept', { type: 'string', array: true, default: [], describe: 'with --name-constrained: extra intercepted hosts to permit (as for start)' })
    .option('json', { type: 'boolean', default: false, describe: 'print path, fingerprint, subject and validity as JSON' })
    .check((a) => {
      if (a['name-constrained'] && !a.regenerate) throw new Error('--name-constrained needs --regenerate (a CA cannot be constrained after the fact)');
      if (a.intercept.length > 0 && !a['name-constrained']) throw new Error('--intercept is read only with --regenerate --name-constrained (the hosts the new CA may sign for)');
      if (a.json && a.der === '-') throw new Error('--json and --der - both write to stdout: give --der a file');
      return true;
    }) as unknown as Argv<CaArgs>,
  handler: (args) => {
    const certs = paths(args.home).certs;
    let regenerated = '';
    let limitedTo: string[] | undefined;
    if (args.regenerate) {
      // The doctor's own echo host is permitted too, so `llmtap doctor` works with any CA.
      const bases = constraintBases([...makeInterceptList(args.intercept).intercept, DOCTOR_HOST]);
      regenerateCa(certs, args['name-constrained'] ? [nameConstraintsExtension(bases)] : []);
      if (args['name-constrained']) limitedTo = [...bases.dns, ...bases.ips];
      regenerated = `new CA${limitedTo ? ` limited to ${limitedTo.length} domains (${limitedTo.join(', ')})` : ''}; restart llmtap and run llmtap trust again\n`;
    }
    const { ca, created } = loadOrCreateCa(certs);
    if (args.der === '-') {
      process.stdout.write(caCertDer(ca));
      return;
    }
    if (args.der) writeFileSync(args.der, caCertDer(ca));
    if (args.json) {
      const x509 = new X509Certificate(ca.certPem);
      const out = {
        cert: ca.certPath, sha256: ca.fingerprint256, subject: x509.subject, notBefore: new Date(x509.validFrom).toISOString(),
        notAfter: new Date(x509.validTo).toISOString(), created: created || args.regenerate,
        ...(limitedTo ? { limitedTo } : {}), ...(args.der ? { der: args.der } : {}),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${regenerated}${ca.certPath}\nSHA-256 ${ca.fingerprint256}\n${args.der ? `DER written to ${args.der}\n` : ''}`);
  },
};

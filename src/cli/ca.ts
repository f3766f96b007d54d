import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { caCertDer, loadOrCreateCa } from '../tls/ca.js';

interface CaArgs {
  home: string;
  der?: string;
}

export const caCommand: CommandModule<{ home: string }, CaArgs> = {
  command: 'ca',
  describe: 'show the CA certificate path and SHA-256 fingerprint (created if missing)',
  builder: (y: Argv<{ home: string }>) => y
    .option('der', { type: 'string', describe: 'also write the CA certificate in DER form to FILE ("-" for stdout)' }) as unknown as Argv<CaArgs>,
  handler: (args) => {
    const { ca } = loadOrCreateCa(paths(args.home).certs);
    if (args.der === '-') {
      process.stdout.write(caCertDer(ca));
      return;
    }
    if (args.der) writeFileSync(args.der, caCertDer(ca));
    process.stdout.write(`${ca.certPath}\nSHA-256 ${ca.fingerprint256}\n${args.der ? `DER written to ${args.der}\n` : ''}`);
  },
};

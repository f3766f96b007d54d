/**
 * `node bench/heap-diff.mjs A.heapprofile nA B.heapprofile nB`: bytes allocated per request (nA, nB
 * requests served while sampling) by function and caller, B minus A, largest first (FLAT=1: by
 * function alone). Profiles from bench/heap-sampling.mjs.
 */
import { readFileSync } from 'node:fs';
const load = (file) => {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map(); let total = 0;
  const walk = (node, parent) => {
    const cf = node.callFrame; const name = `${cf.functionName || '(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    const key = !process.env.FLAT ? `${name} <- ${parent}` : name;
    total += node.selfSize; self.set(key, (self.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c, name);
  };
  walk(p.head, ''); return { self, total };
};
const [,, a, na, b, nb] = process.argv;
const A = load(a), B = load(b);
console.log('bytes/req plain', (A.total / na).toFixed(0), 'policy', (B.total / nb).toFixed(0));
const keys = new Set([...A.self.keys(), ...B.self.keys()]);
const rows = [...keys].map((k) => [k, (A.self.get(k) ?? 0) / na, (B.self.get(k) ?? 0) / nb]).sort((x, y) => (y[2] - y[1]) - (x[2] - x[1]));
for (const [k, x, y] of rows.slice(0, 45)) console.log(x.toFixed(0).padStart(7), y.toFixed(0).padStart(7), (y - x).toFixed(0).padStart(7), k);

import { keyHintSource, keyPatternSource } from '../redact/key-patterns.js';
import type { DetectorName } from './types.js';

/**
 * Content detectors for redact-before-forwarding. Each has a regex that finds
 * candidates and, where the shape alone says too little (card numbers, IBANs,
 * addresses), a check that confirms them, so a phone number or an order id is
 * not taken for a card.
 */
export interface Detector {
  name: string;
  pattern: RegExp;
  /** A cheap test a text must pass before `pattern` runs at all. */
  hint?: RegExp;
  confirm?: (match: string) => boolean;
}

/** Luhn check over the digits of a card-number candidate. */
export function luhn(text: string): boolean {
  const digits = text.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616 mod-97 check of an IBAN candidate (spaces allowed between groups). */
export function ibanValid(text: string): boolean {
  const iban = text.replace(/ /g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) rest = (rest * 10 + Number(digit)) % 97;
  }
  return rest === 1;
}

/**
 * Provider and service key shapes: the archive's own key patterns and their pre-check
 * (key-patterns.ts: OpenAI/Anthropic `sk-`, Google `AIza`, Groq, xAI, Hugging Face,
 * Fireworks, Perplexity, Bedrock, LangSmith, AWS access key ids, GitHub, GitLab and Slack
 * tokens, Bearer tokens).
 */
export const BUILT_IN_DETECTORS: Record<DetectorName, Detector> = {
  api_key: { name: 'api_key', pattern: new RegExp(keyPatternSource(), 'g'), hint: new RegExp(keyHintSource()) },
  private_key: {
    name: 'private_key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----/g,
    hint: /PRIVATE KEY-----/,
  },
  jwt: { name: 'jwt', pattern: /eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, hint: /eyJ/ },
  email: { name: 'email', pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g, hint: /@/ },
  card: { name: 'card', pattern: /(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g, hint: /[0-9]{4}/, confirm: luhn },
  iban: { name: 'iban', pattern: /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g, hint: /[A-Z]{2}[0-9]{2}/, confirm: ibanValid },
  ipv4: {
    name: 'ipv4',
    pattern: /(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?![0-9]|\.[0-9])/g,
    hint: /[0-9]\.[0-9]/,
  },
};

export const DETECTOR_NAMES = Object.keys(BUILT_IN_DETECTORS) as DetectorName[];

/**
 * Order matters: a private key or JWT contains text other detectors would take
 * apart (base64 that looks like a key), so the long shapes go first.
 */
export const DETECTOR_ORDER: readonly DetectorName[] = ['private_key', 'jwt', 'api_key', 'email', 'iban', 'card', 'ipv4'];

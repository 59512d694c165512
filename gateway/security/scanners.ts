/**
 * Known SIP scanners by User-Agent (SIPVicious "friendly-scanner", sipcli, sip-scan, ...): their
 * requests are dropped unanswered, so a sweep of the Internet does not even learn that a SIP
 * element listens here. A determined attacker changes the header; the point is to make the
 * background noise of automated scans cost nothing and reveal nothing.
 *
 * Matching is case-insensitive and anchored at the start of a word (the start of the value or
 * after a character that is not a letter or digit), so a short signature like "smap" does not
 * catch an innocent product whose name merely contains it. No regular expression on attacker input.
 */

/** Words (lower case) that start User-Agent values of well-known scanning tools. */
export const DEFAULT_SCANNER_USER_AGENTS: readonly string[] = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'sip-scan',
  'sipscan',
  'vaxsipuseragent',
  'sundayddr',
  'iwar',
  'sivus',
  'smap',
  'pplsip',
  'sipptk',
  'voipbuster',
];

/** Only this much of a User-Agent is examined: enough for every signature, bounded work. */
const MAX_EXAMINED = 512;

export class ScannerDetector {
  private readonly needles: readonly string[];

  constructor(userAgents: readonly string[] = DEFAULT_SCANNER_USER_AGENTS) {
    this.needles = userAgents.map((u) => u.trim().toLowerCase()).filter((u) => u.length > 0);
  }

  /** The signature `userAgent` matches, or undefined. */
  match(userAgent: string | undefined): string | undefined {
    if (userAgent === undefined || this.needles.length === 0) return undefined;
    const text = (userAgent.length > MAX_EXAMINED ? userAgent.slice(0, MAX_EXAMINED) : userAgent).toLowerCase();
    for (const n of this.needles) if (containsWord(text, n)) return n;
    return undefined;
  }
}

function containsWord(text: string, word: string): boolean {
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
    if (i === 0 || !isAlphanumeric(text.charCodeAt(i - 1))) return true;
  }
  return false;
}

function isAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

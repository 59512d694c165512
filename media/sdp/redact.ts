/**
 * Redaction of key material in SDP (or a whole SIP message) before it is logged.
 *
 * Replaced: the key||salt of every "inline:" key-param (RFC 4568 §6.1, including FEC_KEY),
 * the value of k= lines (RFC 4566 §5.12), a=key-mgmt (RFC 4567, MIKEY) and a=ice-pwd
 * (RFC 8839 §5.4, the STUN short-term password). Lifetimes, MKIs, tags and suites stay: they are
 * what one debugs with, and are not secret. The scan is linear: indexOf and character tests.
 */

export const REDACTED = '[REDACTED]';

const LINE_SECRETS: readonly string[] = ['k=', 'a=key-mgmt:', 'a=ice-pwd:'];

export function redactCrypto(text: string): string {
  return redactLines(redactInline(text));
}

function redactInline(text: string): string {
  let out = '';
  let from = 0;
  const lower = asciiLower(text);
  for (;;) {
    const at = lower.indexOf('inline:', from);
    if (at < 0) break;
    const start = at + 'inline:'.length;
    let end = start;
    while (end < text.length && isKeyInfoChar(text.charCodeAt(end))) end++;
    out += text.slice(from, start) + (end > start ? REDACTED : '');
    from = end;
  }
  return out + text.slice(from);
}

function redactLines(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let lead = 0;
    while (lead < line.length && (line[lead] === ' ' || line[lead] === '\t')) lead++;
    for (const prefix of LINE_SECRETS) {
      if (line.startsWith(prefix, lead)) {
        const cr = line.endsWith('\r') ? '\r' : '';
        lines[i] = line.slice(0, lead + prefix.length) + REDACTED + cr;
        break;
      }
    }
  }
  return lines.join('\n');
}

/** Lower-case ASCII letters only: same length as the input, so indices carry over. */
function asciiLower(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : s[i];
  }
  return out;
}

/** Up to "|" (lifetime/MKI follow), ";" (next key-param) or white space: a malformed key is redacted too. */
function isKeyInfoChar(c: number): boolean {
  return c > 0x20 && c !== 0x7c && c !== 0x3b && c !== 0x7f;
}

/**
 * host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1, RFC 5118, RFC 5954).
 *
 * Validators work on a range of a string so callers never slice before they know the host is good.
 */
import { hexValue } from './chars';

/**
 * IPv4address: four dec-octets. RFC 3261 wrote 1*3DIGIT; RFC 5954 §4.1 corrects it to 0..255,
 * which is what we enforce.
 */
export function isIPv4(s: string, i: number, end: number): boolean {
  let parts = 0;
  while (i < end) {
    let v = 0;
    let n = 0;
    while (i < end && n < 4) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      n++;
      i++;
    }
    if (n === 0 || n > 3 || v > 255) return false;
    parts++;
    if (i === end) break;
    if (s.charCodeAt(i) !== 46 /* . */ || parts === 4) return false;
    i++;
    if (i === end) return false;
  }
  return parts === 4;
}

/** IPv6address (RFC 4291 §2.2 text forms, RFC 5954 §4.1): 8 groups, one "::", optional IPv4 tail. */
export function isIPv6(s: string, i: number, end: number): boolean {
  if (end - i < 2) return false;
  let groups = 0;
  let compressed = false;
  if (s.charCodeAt(i) === 58 /* : */) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    compressed = true;
    i += 2;
  }
  while (i < end) {
    let j = i;
    while (j < end && j - i < 5 && hexValue(s.charCodeAt(j)) >= 0) j++;
    if (j < end && s.charCodeAt(j) === 46 /* . */) {
      if (!isIPv4(s, i, end)) return false;
      groups += 2;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups++;
    i = j;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (compressed) return false;
      compressed = true;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

/**
 * hostname (RFC 3261 §25.1): labels of alphanum and inner "-", a top label starting with ALPHA,
 * an optional trailing dot. An all-numeric name must be a valid IPv4address.
 */
export function isHostname(s: string, i: number, end: number): boolean {
  if (i >= end) return false;
  let labelStart = i;
  let topStart = i;
  let numeric = true;
  let prev = 46;
  for (let k = i; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c === 46 /* . */) {
      if (k === labelStart || prev === 45) return false; // empty label, or one ending in "-"
      topStart = labelStart;
      labelStart = k + 1;
    } else if (c >= 48 && c <= 57) {
      // digit
    } else if ((c | 32) >= 97 && (c | 32) <= 122) {
      numeric = false;
    } else if (c === 45 /* - */) {
      if (k === labelStart) return false; // label starting with "-"
      numeric = false;
    } else {
      return false;
    }
    prev = c;
  }
  if (labelStart < end) {
    if (prev === 45) return false;
    topStart = labelStart;
  }
  if (numeric) return isIPv4(s, i, end);
  const top = s.charCodeAt(topStart) | 32;
  return top >= 97 && top <= 122;
}

/**
 * Validates `host` in s[i, end): a bracketed IPv6reference, an IPv4address or a hostname.
 * Returns false for anything else (bare IPv6, empty, stray characters).
 */
export function isHost(s: string, i: number, end: number): boolean {
  if (i < end && s.charCodeAt(i) === 91 /* [ */) {
    return end - i > 2 && s.charCodeAt(end - 1) === 93 && isIPv6(s, i + 1, end - 1);
  }
  return isHostname(s, i, end);
}

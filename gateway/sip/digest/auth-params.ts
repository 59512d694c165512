/**
 * Challenge and credentials header values: `auth-scheme LWS auth-param *(COMMA auth-param)`
 * (RFC 3261 §25.1 `challenge` / `credentials`, §20.7, §20.27, §20.28, §20.44; RFC 7235 §2.1).
 *
 * A hand-written, single-pass scanner: every character is looked at a bounded number of times, no
 * regular expression, and the input length is capped before scanning starts, so the work is linear
 * and bounded whatever an attacker sends.
 */
import { AuthHeaderSyntaxError, InvalidAuthParamError } from './errors';

/** One auth-param value, unescaped. `quoted` records whether it arrived as a quoted-string. */
export interface AuthParamValue {
  readonly value: string;
  readonly quoted: boolean;
}

/** A parsed WWW-Authenticate / Proxy-Authenticate / Authorization / Proxy-Authorization value. */
export interface AuthHeaderValue {
  /** The auth-scheme as received (case preserved). */
  readonly scheme: string;
  /** True for the Digest scheme; auth-scheme names are case-insensitive (RFC 7235 §2.1). */
  readonly isDigest: boolean;
  /**
   * auth-params by lower-cased name (names are case-insensitive, RFC 7235 §2.1), in received order.
   * Empty for a scheme other than Digest: its syntax (e.g. token68) is not ours to judge, and the
   * server only needs to know the scheme is unknown to challenge (RFC 4475 test "regaut01").
   */
  readonly params: ReadonlyMap<string, AuthParamValue>;
}

export interface AuthParseOptions {
  /** Longest value accepted, in UTF-16 code units. Default {@link AUTH_HEADER_MAX_LENGTH}. */
  maxLength?: number;
  /** Most auth-params accepted. Default {@link AUTH_HEADER_MAX_PARAMS}. */
  maxParams?: number;
}

/** A Digest value is a few hundred characters; 4 KiB leaves room for long URIs and nonces. */
export const AUTH_HEADER_MAX_LENGTH = 4096;
/** RFC 7616 defines 14 parameters; 32 leaves room for extensions without unbounded maps. */
export const AUTH_HEADER_MAX_PARAMS = 32;

const HTAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const EQUAL = 0x3d;
const BACKSLASH = 0x5c;
const DEL = 0x7f;

/** RFC 3261 §25.1 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~". */
const TOKEN_CHARS: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of "-.!%*_+`'~") t[ch.charCodeAt(0)] = 1;
  return t;
})();

function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1;
}

/** True when `s` is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Characters allowed inside a quoted-string, escaped or not: HTAB, SP, visible ASCII and anything
 * non-ASCII (UTF8-NONASCII). RFC 3261's quoted-pair also admits escaped control characters; like
 * RFC 7230 §3.2.6 we refuse them, since no credential needs a NUL and a downstream store might
 * truncate at one.
 */
function isQuotedTextChar(c: number): boolean {
  return c === HTAB || (c >= SP && c !== DEL);
}

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  get atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }

  fail(reason: ConstructorParameters<typeof AuthHeaderSyntaxError>[0]): never {
    throw new AuthHeaderSyntaxError(reason, this.pos);
  }

  /** Length of a line fold (CRLF 1*WSP, RFC 3261 §7.3.1) starting at `i`, or 0. */
  private foldAt(i: number): number {
    const s = this.s;
    if (s.charCodeAt(i) !== CR || s.charCodeAt(i + 1) !== LF) return 0;
    const c = s.charCodeAt(i + 2);
    return c === SP || c === HTAB ? 2 : 0;
  }

  /** Skips LWS (SP, HTAB, folds). Returns whether anything was skipped. */
  skipLws(): boolean {
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === SP || c === HTAB) this.pos++;
      else if (c === CR && this.foldAt(this.pos) > 0) this.pos += 2;
      else break;
    }
    return this.pos > start;
  }

  /** Reads a (possibly empty) token. */
  token(): string {
    const start = this.pos;
    while (isTokenChar(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** Reads a quoted-string starting at DQUOTE and returns it unescaped. */
  quotedString(): string {
    const s = this.s;
    this.pos++; // opening DQUOTE
    let out = '';
    let run = this.pos;
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated-quoted-string');
      const c = s.charCodeAt(this.pos);
      if (c === DQUOTE) {
        out += s.slice(run, this.pos);
        this.pos++;
        return out;
      }
      if (c === BACKSLASH) {
        out += s.slice(run, this.pos);
        this.pos++;
        if (this.pos >= s.length) this.fail('unterminated-quoted-string');
        if (!isQuotedTextChar(s.charCodeAt(this.pos))) this.fail('bad-escape');
        run = this.pos; // the escaped character starts the next run
        this.pos++;
        continue;
      }
      if (c === CR) {
        const fold = this.foldAt(this.pos);
        if (fold === 0) this.fail('bad-char');
        // A fold is the same as the whitespace that follows it (RFC 3261 §7.3.1): drop the CRLF.
        out += s.slice(run, this.pos);
        this.pos += fold;
        run = this.pos;
        continue;
      }
      if (!isQuotedTextChar(c)) this.fail('bad-char');
      this.pos++;
    }
  }
}

/**
 * Parses one challenge or credentials value. Throws {@link AuthHeaderSyntaxError} (never anything
 * else) for input that does not follow the grammar, is too long, repeats a parameter or has too
 * many. A scheme other than Digest is returned with `isDigest: false` and no params.
 */
export function parseAuthHeader(value: string, options: AuthParseOptions = {}): AuthHeaderValue {
  const maxLength = options.maxLength ?? AUTH_HEADER_MAX_LENGTH;
  const maxParams = options.maxParams ?? AUTH_HEADER_MAX_PARAMS;
  if (value.length > maxLength) throw new AuthHeaderSyntaxError('too-long', maxLength);

  const sc = new Scanner(value);
  sc.skipLws();
  const scheme = sc.token();
  if (scheme.length === 0) sc.fail('expected-scheme');
  const isDigest = scheme.toLowerCase() === 'digest';
  const params = new Map<string, AuthParamValue>();
  if (!isDigest) return { scheme, isDigest, params };

  // RFC 3261 §25.1: "Digest" LWS digest-cln *(COMMA digest-cln): at least one parameter.
  if (!sc.skipLws()) sc.fail(sc.atEnd ? 'expected-param-name' : 'expected-whitespace');
  for (;;) {
    const nameAt = sc.pos;
    const name = sc.token();
    if (name.length === 0) sc.fail('expected-param-name');
    sc.skipLws();
    if (sc.peek() !== EQUAL) sc.fail('expected-equal');
    sc.pos++;
    sc.skipLws();
    let param: AuthParamValue;
    if (sc.peek() === DQUOTE) {
      param = { value: sc.quotedString(), quoted: true };
    } else {
      const tok = sc.token();
      if (tok.length === 0) sc.fail('expected-param-value');
      param = { value: tok, quoted: false };
    }
    const key = name.toLowerCase();
    if (params.has(key)) throw new AuthHeaderSyntaxError('duplicate-param', nameAt);
    if (params.size >= maxParams) throw new AuthHeaderSyntaxError('too-many-params', nameAt);
    params.set(key, param);
    sc.skipLws();
    if (sc.atEnd) break;
    if (sc.peek() !== COMMA) sc.fail('expected-comma');
    sc.pos++;
    sc.skipLws();
  }
  return { scheme, isDigest, params };
}

/** The unescaped value of a parameter (name matched case-insensitively), if present. */
export function authParam(h: AuthHeaderValue, name: string): string | undefined {
  return h.params.get(name.toLowerCase())?.value;
}

/** Writes `s` as a quoted-string, escaping DQUOTE and backslash; control characters are refused. */
function quote(name: string, s: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE || c === BACKSLASH) {
      out += s.slice(run, i) + '\\';
      run = i;
    } else if (!isQuotedTextChar(c)) {
      throw new InvalidAuthParamError(name, 'control-char');
    }
  }
  return out + s.slice(run) + '"';
}

/**
 * Serializes a challenge or credentials value: `Scheme name=value, name="value", ...`.
 * Names and token values must be RFC 3261 tokens; quoted values may hold anything but control
 * characters (which would allow header injection). Throws {@link InvalidAuthParamError}.
 */
export function serializeAuthHeader(
  scheme: string,
  params: Iterable<readonly [string, AuthParamValue]>,
): string {
  if (!isToken(scheme)) throw new InvalidAuthParamError('scheme', 'not-a-token');
  const parts: string[] = [];
  for (const [name, p] of params) {
    if (!isToken(name)) throw new InvalidAuthParamError('name', 'not-a-token');
    if (p.quoted) parts.push(`${name}=${quote(name, p.value)}`);
    else if (isToken(p.value)) parts.push(`${name}=${p.value}`);
    else throw new InvalidAuthParamError(name, 'not-a-token');
  }
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}

/**
 * Splits a qop-options value (`"auth,auth-int"`, RFC 7616 §3.3) into lower-cased tokens; empty
 * elements and surrounding whitespace are dropped.
 */
export function parseQopOptions(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t.length > 0) out.push(t);
  }
  return out;
}

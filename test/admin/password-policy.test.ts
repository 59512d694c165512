import assert from 'node:assert/strict';
import {
  DEFAULT_PASSWORD_POLICY,
  GENERATED_PASSWORD_LENGTH,
  checkPassword,
  generatePassword,
  type PasswordRule,
} from '../../gateway/admin/password-policy';
import { PasswordPolicyConfigError } from '../../gateway/admin/errors';

/** The exact default-policy sentences (a change to them is a change users see). */
const V: Record<PasswordRule, string> = {
  'min-length': 'must be at least 12 characters long',
  'max-length': 'must be at most 128 characters long',
  'control-character': 'must not contain control or invisible characters',
  uppercase: 'must contain an upper-case letter',
  lowercase: 'must contain a lower-case letter',
  digit: 'must contain a digit',
  symbol: 'must contain a symbol (punctuation or a space, such as - _ . ! #)',
  sequence: 'must not contain 4 or more consecutive ascending or descending characters (like abcd or 4321)',
  repeat: 'must not repeat a character 4 or more times in a row (like aaaa)',
  keyboard: 'must not contain 4 or more adjacent keys of a keyboard row (like qwer or asdf)',
  username: 'must not contain the user name',
};

interface Case {
  readonly password: string;
  readonly username?: string;
  readonly broken: readonly PasswordRule[];
  readonly why: string;
}

const CASES: readonly Case[] = [
  // Accepted
  { password: 'Tr0ub4dor&3x!', broken: [], why: 'all four classes, no pattern' },
  { password: 'correct-Horse-7-battery', broken: [], why: 'a long passphrase with separators' },
  { password: 'N9#kq2Lm!vX7', broken: [], why: 'exactly 12 characters' },
  { password: 'Zy8$Zy8$Zy8$', broken: [], why: 'a repeated block is not a run' },
  { password: 'Ünïcödé-Pässwört-9', broken: [], why: 'non-ASCII letters count as upper/lower case' },
  { password: 'space is 0K Here', broken: [], why: 'a space counts as a symbol' },
  { password: 'abc#9Kpmzqx1', broken: [], why: 'a sequence of 3 is allowed' },
  { password: 'Al#9kpmzqxtw', username: 'al', broken: [], why: 'a user name under 3 characters is not searched' },
  { password: 'Xaaa#9Kpmzqw', broken: [], why: 'a repeat of 3 is allowed' },
  // Rejected: one rule
  { password: 'Short1!a', broken: ['min-length'], why: 'too short' },
  { password: 'alllowercase12!', broken: ['uppercase'], why: 'no upper-case letter' },
  { password: 'ALLUPPERCASE12!', broken: ['lowercase'], why: 'no lower-case letter' },
  { password: 'NoDigitsHere!!', broken: ['digit'], why: 'no digit' },
  { password: 'NoSymbolsHere9x', broken: ['symbol'], why: 'no symbol' },
  { password: 'Xabcd#9Kpwmz', broken: ['sequence'], why: 'ascending letters' },
  { password: 'Xdcba#9Kpwmz', broken: ['sequence'], why: 'descending letters' },
  { password: 'aBcD#9Kpmzqx', broken: ['sequence'], why: 'a sequence regardless of case' },
  { password: 'Pass9876#word', broken: ['sequence'], why: 'descending digits (also a keyboard run, reported once)' },
  { password: 'Xaaaa#9Kpmzq', broken: ['repeat'], why: 'four identical characters' },
  { password: 'XAaAa#9Kpmzq', broken: ['repeat'], why: 'a repeat regardless of case' },
  { password: 'Qwer#9Kpmzxt', broken: ['keyboard'], why: 'top letter row' },
  { password: 'Xtrewq#9Kpmz', broken: ['keyboard'], why: 'top letter row backwards' },
  { password: 'Zxcv#9Kpmtqw', broken: ['keyboard'], why: 'bottom row' },
  { password: 'Xasdf#9Kpmtq', broken: ['keyboard'], why: 'home row' },
  { password: '7890Ab#kpmzq', broken: ['keyboard'], why: 'digit row across 9-0 (not a code-point sequence)' },
  { password: '!@#$Ab9kpmzq', broken: ['keyboard'], why: 'shifted digit row' },
  { password: 'MyAlice#2024x', username: 'alice', broken: ['username'], why: 'contains the user name, other case' },
  { password: 'Tab\there#9Kpm', broken: ['control-character'], why: 'a tab' },
  { password: 'Zero\u200bWidth#9Kp', broken: ['control-character'], why: 'an invisible format character' },
  { password: `Aa1!${'x9Q-'.repeat(32)}`, broken: ['max-length'], why: '132 characters' },
  // Rejected: several rules, all listed
  { password: '', broken: ['min-length', 'uppercase', 'lowercase', 'digit', 'symbol'], why: 'empty' },
  { password: 'zzzz', broken: ['min-length', 'uppercase', 'digit', 'symbol', 'repeat'], why: 'short and repeated' },
  { password: '1111111111111', broken: ['uppercase', 'lowercase', 'symbol', 'repeat'], why: 'one digit repeated' },
  { password: 'qwerty123456', broken: ['uppercase', 'symbol', 'sequence', 'keyboard'], why: 'the classic' },
  { password: 'bob', username: 'bob', broken: ['min-length', 'uppercase', 'digit', 'symbol', 'username'], why: 'the user name itself' },
];

describe('admin: password policy (defaults)', () => {
  it('MUST have the documented defaults', () => {
    assert.equal(DEFAULT_PASSWORD_POLICY.minLength, 12);
    assert.equal(DEFAULT_PASSWORD_POLICY.sequenceRun, 4);
    assert.equal(DEFAULT_PASSWORD_POLICY.repeatRun, 4);
    assert.equal(DEFAULT_PASSWORD_POLICY.keyboardRun, 4);
  });

  for (const c of CASES) {
    const verdict = c.broken.length === 0 ? 'accept' : `reject [${c.broken.join(', ')}]`;
    it(`MUST ${verdict}: ${c.why}`, () => {
      const result = checkPassword(c.password, c.username === undefined ? {} : { username: c.username });
      assert.deepEqual(result.rules, c.broken);
      assert.deepEqual(result.violations, c.broken.map((r) => V[r]));
      assert.equal(result.ok, c.broken.length === 0);
      if (c.password.length >= 4) {
        for (const v of result.violations) assert.ok(!v.includes(c.password), 'a violation must not quote the password');
      }
    });
  }
});

describe('admin: password policy (configured)', () => {
  it('MUST apply a relaxed policy and say the configured limits', () => {
    const policy = { minLength: 8, requireSymbol: false, sequenceRun: 5 };
    assert.deepEqual(checkPassword('Abcd1xyzQ', {}, policy).violations, []);
    assert.deepEqual(checkPassword('Abcde1x', {}, policy).violations, [
      'must be at least 8 characters long',
      'must not contain 5 or more consecutive ascending or descending characters (like abcd or 4321)',
    ]);
  });

  it('MUST still catch 1234 as a keyboard run when the sequence rule is off', () => {
    assert.deepEqual(checkPassword('Xk1234#Pmzqw', {}, { sequenceRun: 0 }).rules, ['keyboard']);
  });

  it('MUST allow switching off the user name rule', () => {
    assert.equal(checkPassword('MyAlice#2024x', { username: 'alice' }, { forbidUsername: false }).ok, true);
  });
});

describe('admin: generated passwords', () => {
  it('MUST satisfy the policy, be 20 characters and never repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const pw = generatePassword(undefined, 'alice');
      assert.equal(pw.length, GENERATED_PASSWORD_LENGTH);
      assert.equal(checkPassword(pw, { username: 'alice' }).ok, true);
      seen.add(pw);
    }
    assert.equal(seen.size, 50);
  });

  it('MUST avoid ambiguous characters (0 O 1 l I)', () => {
    for (let i = 0; i < 50; i++) assert.doesNotMatch(generatePassword(), /[0O1lI]/);
  });

  it('MUST honour a longer minimum', () => {
    assert.equal(generatePassword({ minLength: 32 }).length, 32);
  });

  it('MUST report a policy no password can meet', () => {
    assert.throws(() => generatePassword({ minLength: 40, maxLength: 30 }), PasswordPolicyConfigError);
  });
});

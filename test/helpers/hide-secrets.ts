/**
 * Assertion messages are printed when a test fails: CLI output quoted in one must not carry the
 * password, OTP or token a command prints "(shown once)".
 */

/** text with every "(shown once): SECRET" value replaced by [hidden]. */
export function hideShownOnce(text: string): string {
  return text.replace(/\(shown once\): [^\s]+/g, '(shown once): [hidden]');
}

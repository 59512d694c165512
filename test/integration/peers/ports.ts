/** Moved to test/helpers/ports.ts; kept for the tests that still import it from here. */
export { freePort } from '../../helpers/ports';

/**
 * Which answer decides a forked call when every phone failed (sip-fork.ts, RFC 3261 §16.7 step 6
 * simplified): a 6xx from any phone, else busy (486), else a no-answer status, else the lowest.
 */
import { describe, expect, it } from 'vitest';
import { bestFailure } from '../../../src/endpoints/sip/sip-fork.js';

describe('the deciding answer of a forked call', () => {
  it('takes a 6xx over anything, then 486 over no-answer, then 408/480/487 over other failures', () => {
    expect(bestFailure([486, 603, 408])).toBe(603);
    expect(bestFailure([408, 486, 404])).toBe(486);
    expect(bestFailure([404, 480, 503])).toBe(480);
    expect(bestFailure([503, 404, 488])).toBe(404);
  });

  it('is no-answer (480) with no answers at all', () => {
    expect(bestFailure([])).toBe(480);
  });
});

/**
 * Access Token checks on a real store, at exact times (a manual clock): the helper library's
 * HS256/HS384/HS512 tokens with their grants read back; the clock-skew allowance at both ends;
 * the 24-hour limit; a sealed secret bound to its key; the console's own tokens.
 */
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../../src/domain/model.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { AccessTokenRefused, signAccessToken, verifyAccessToken } from '../../src/services/access-tokens.js';
import { createApiKey } from '../../src/services/api-keys.js';
import { CredentialCache } from '../../src/services/credential-cache.js';
import { EventBus } from '../../src/events/event-bus.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';
import { ManualClock } from '../helpers/test-app.js';

const { AccessToken } = twilio.jwt;
const APPLICATION_SID = `AP${'ab'.repeat(16)}`;

describe('verifyAccessToken', () => {
  let test: TestStore;
  let account: Account;
  let key: { sid: string; secret: string };
  const clock = new ManualClock(Date.now());

  const ctx = () => ({ store: test.store, clock });
  const codeOf = (promise: Promise<unknown>): Promise<number | string> =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof AccessTokenRefused ? error.code : String(error)),
    );

  function token(options: { algorithm?: 'HS256' | 'HS384' | 'HS512'; ttl?: number; nbf?: number } = {}): string {
    const jwt = new AccessToken(account.sid, key.sid, key.secret, { identity: 'alice', ...(options.ttl ? { ttl: options.ttl } : {}), ...(options.nbf ? { nbf: options.nbf } : {}) });
    jwt.addGrant(new AccessToken.VoiceGrant({ incomingAllow: true, outgoingApplicationSid: APPLICATION_SID, outgoingApplicationParams: { team: 'blue', level: 3 } }));
    return jwt.toJwt(options.algorithm);
  }

  beforeAll(async () => {
    test = await openTestStore('sqlite');
    const now = Date.now();
    account = { sid: newSid('AC'), ownerAccountSid: '', friendlyName: 'owner', authToken: newAuthToken(), status: 'active', dateCreated: now, dateUpdated: now };
    account.ownerAccountSid = account.sid;
    await test.store.insertAccount(account);
    const created = await createApiKey({ node: { id: 'n1', clustered: false }, store: test.store, bus: new EventBus(() => undefined, false), clock, credentials: new CredentialCache() }, account.sid, 'tokens');
    key = { sid: created.key.sid, secret: created.secret };
  });

  afterAll(async () => {
    await test.cleanup();
  });

  it('reads the grants of HS256, HS384 and HS512 tokens of the helper library', async () => {
    for (const algorithm of ['HS256', 'HS384', 'HS512'] as const) {
      clock.set(Date.now());
      const access = await verifyAccessToken(ctx(), token({ algorithm, ttl: 600 }));
      expect(access).toMatchObject({ accountSid: account.sid, issuer: key.sid, identity: 'alice', incomingAllow: true, outgoing: { applicationSid: APPLICATION_SID, params: { team: 'blue', level: '3' } } });
      expect(access.expiresAt).toBeGreaterThan(clock.now() + 590_000);
    }
  });

  it('allows 30 s of clock skew on exp and nbf, and no more', async () => {
    const issued = Date.now();
    const jwt = token({ ttl: 60 });
    clock.set(issued + 60_000 + 25_000);
    expect(await codeOf(verifyAccessToken(ctx(), jwt))).toBe('accepted');
    clock.set(issued + 60_000 + 35_000);
    expect(await codeOf(verifyAccessToken(ctx(), jwt))).toBe(20104);
    const later = token({ nbf: Math.floor(issued / 1000) + 20 });
    clock.set(issued);
    expect(await codeOf(verifyAccessToken(ctx(), later))).toBe('accepted');
    const muchLater = token({ nbf: Math.floor(issued / 1000) + 60 });
    expect(await codeOf(verifyAccessToken(ctx(), muchLater))).toBe(20105);
  });

  it('takes a lifetime of 24 hours and refuses a longer one (20157)', async () => {
    clock.set(Date.now());
    expect(await codeOf(verifyAccessToken(ctx(), token({ ttl: 86_400 })))).toBe('accepted');
    expect(await codeOf(verifyAccessToken(ctx(), token({ ttl: 86_400 + 120 })))).toBe(20157);
  });

  it("does not open a sealed secret moved onto another key's row", async () => {
    clock.set(Date.now());
    const stored = (await test.store.findKey(key.sid))!;
    const other = { ...stored, sid: newSid('SK'), friendlyName: 'copy' };
    await test.store.insertKey(other);
    const jwt = new AccessToken(account.sid, other.sid, key.secret, { identity: 'mallory' });
    jwt.addGrant(new AccessToken.VoiceGrant({ incomingAllow: true }));
    // The seal is bound to its own key's SID: it does not open as the copy's, so no token of the copy is checked.
    expect(await codeOf(verifyAccessToken(ctx(), jwt.toJwt()))).toBe(20101);
  });

  it("takes the console's tokens, signed with the auth token, and no token of another account's auth token", async () => {
    clock.set(Date.now());
    const console = signAccessToken({ accountSid: account.sid, issuer: account.sid, identity: 'tab-1', ttlSeconds: 3600, incomingAllow: true }, account.authToken, clock.now());
    expect(await verifyAccessToken(ctx(), console)).toMatchObject({ identity: 'tab-1', incomingAllow: true, outgoing: undefined, issuer: account.sid });
    const forged = signAccessToken({ accountSid: account.sid, issuer: account.sid, identity: 'tab-1', ttlSeconds: 3600, incomingAllow: true }, newAuthToken(), clock.now());
    expect(await codeOf(verifyAccessToken(ctx(), forged))).toBe(20107);
  });
});

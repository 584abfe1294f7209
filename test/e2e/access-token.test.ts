/**
 * Browsers sign in to `/client/v1` with the Access Token a Twilio app's token endpoint makes with
 * the official helper library (`twilio.jwt.AccessToken` + `VoiceGrant`), signed with an API key
 * made through the REST API; tokens that are expired, not yet valid, badly signed, of another
 * account's key, of a deleted key or without a voice grant are refused with Twilio's codes and
 * the connection closed 4401. The console's own token (POST /console/voice-token) signs in too.
 */
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid } from '../../src/domain/sids.js';
import { sha256Hex } from '../../src/services/authenticate.js';
import { ClientSocket } from '../helpers/client-socket.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const { AccessToken } = twilio.jwt;
const { VoiceGrant } = AccessToken;
const APPLICATION_SID = `AP${'0'.repeat(32)}`;

interface Key {
  sid: string;
  secret: string;
}

function voiceToken(accountSid: string, key: Key, options: { identity?: string; ttl?: number; nbf?: number; grant?: boolean } = {}): string {
  const token = new AccessToken(accountSid, key.sid, key.secret, { identity: options.identity ?? 'alice', ...(options.ttl ? { ttl: options.ttl } : {}), ...(options.nbf ? { nbf: options.nbf } : {}) });
  if (options.grant !== false) token.addGrant(new VoiceGrant({ incomingAllow: true, outgoingApplicationSid: APPLICATION_SID, outgoingApplicationParams: { team: 'blue' } }));
  return token.toJwt();
}

describe('Access Tokens on the browser signalling', () => {
  let t: TestApp;
  let key: Key;
  const sockets: ClientSocket[] = [];

  async function newKey(accountSid = t.accountSid, auth?: string): Promise<Key> {
    const res = await t.request('POST', `/2010-04-01/Accounts/${accountSid}/Keys.json`, { form: { FriendlyName: 'browser tokens' }, ...(auth ? { auth } : {}) });
    expect(res.status).toBe(201);
    return res.json<Key>();
  }

  async function register(token: string): Promise<{ socket: ClientSocket; answer: Record<string, unknown> }> {
    const opened = await ClientSocket.register(t.baseUrl, token);
    sockets.push(opened.socket);
    return opened;
  }

  async function refused(token: string, code: number): Promise<string> {
    const { socket, answer } = await register(token);
    expect(answer).toMatchObject({ type: 'error', code });
    expect(await socket.closed()).toBe(4401);
    return String(answer.message);
  }

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    key = await newKey();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t.close();
  });

  it("registers with a token the helper library made, and is told its identity, account and expiry", async () => {
    const before = Date.now();
    const { answer } = await register(voiceToken(t.accountSid, key, { ttl: 600 }));
    expect(answer).toMatchObject({ type: 'registered', identity: 'alice', accountSid: t.accountSid });
    const expiresAt = Date.parse(String(answer.expiresAt));
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it('takes a new token on the same connection (updateToken), answering registered again', async () => {
    const { socket } = await register(voiceToken(t.accountSid, key, { ttl: 60 }));
    socket.send({ type: 'updateToken', token: voiceToken(t.accountSid, key, { ttl: 3000 }) });
    const again = await socket.next('registered');
    expect(Date.parse(String(again.expiresAt))).toBeGreaterThan(Date.now() + 2_900_000);
    // A bad new token is told, and the old one stays: the connection is not closed.
    socket.send({ type: 'updateToken', token: 'not.a.token' });
    expect(await socket.next('error')).toMatchObject({ code: 20101 });
    socket.send({ type: 'hangup', callSid: 'CAnothing' });
    socket.send({ type: 'updateToken', token: voiceToken(t.accountSid, key) });
    await socket.next('registered');
    expect(socket.closeCode).toBeUndefined();
  });

  it('refuses an expired token (20104), one not valid yet (20105) and one living over 24 hours (20157)', async () => {
    expect(await refused(voiceToken(t.accountSid, key, { ttl: -600 }), 20104)).toMatch(/expired/);
    await refused(voiceToken(t.accountSid, key, { nbf: Math.floor(Date.now() / 1000) + 3600 }), 20105);
    await refused(voiceToken(t.accountSid, key, { ttl: 2 * 86_400 }), 20157);
  });

  it('refuses a token signed with the wrong secret (20107)', async () => {
    await refused(voiceToken(t.accountSid, { sid: key.sid, secret: `${key.secret}x` }), 20107);
  });

  it("refuses another account's key (20103), even with its right secret", async () => {
    const created = await t.request('POST', '/2010-04-01/Accounts.json', { form: { FriendlyName: 'other' } });
    const other = created.json<{ sid: string; auth_token: string }>();
    const otherKey = await newKey(other.sid, `${other.sid}:${other.auth_token}`);
    // Signed with the other account's key but claiming the owner's account.
    expect(await refused(voiceToken(t.accountSid, otherKey), 20103)).toMatch(otherKey.sid);
    // Its own account's token is good.
    expect((await register(voiceToken(other.sid, otherKey))).answer).toMatchObject({ type: 'registered', accountSid: other.sid });
  });

  it('refuses a token of a deleted key (20103)', async () => {
    const doomed = await newKey();
    const token = voiceToken(t.accountSid, doomed);
    expect((await register(token)).answer.type).toBe('registered');
    expect((await t.request('DELETE', `/2010-04-01/Accounts/${t.accountSid}/Keys/${doomed.sid}.json`)).status).toBe(204);
    await refused(token, 20103);
  });

  it("refuses a token without a voice grant (20106), without Twilio's header (20102) or of garbage (20101)", async () => {
    expect(await refused(voiceToken(t.accountSid, key, { grant: false }), 20106)).toMatch(/voice grant/);
    await refused('eyJhbGciOiJIUzI1NiJ9.e30.', 20102);
    await refused('hello', 20101);
  });

  it('refuses the tokens of a key made before secrets were kept, saying to make a new key', async () => {
    const secret = 'an-old-secret-of-24-chars';
    const now = Date.now();
    const old = { sid: newSid('SK'), accountSid: t.accountSid, friendlyName: 'old', secretHash: sha256Hex(secret), dateCreated: now, dateUpdated: now };
    await t.app.store.insertKey(old);
    expect(await refused(voiceToken(t.accountSid, { sid: old.sid, secret }), 20101)).toMatch(/create a new API key/);
  });

  it('closes a connection that sends no register within its time, and refuses calls before register', async () => {
    const socket = await ClientSocket.open(t.baseUrl);
    sockets.push(socket);
    socket.send({ type: 'connect', id: 'x', sdp: 'v=0', params: {} });
    expect(await socket.next('error')).toMatchObject({ code: 20101 });
    expect(await socket.closed(15_000)).toBe(4401);
  }, 20_000);

  it("signs the console's tokens (POST /console/voice-token), which register as the identity asked for", async () => {
    const res = await t.request('POST', '/console/voice-token', { form: { Identity: 'console-tab-1' } });
    expect(res.status).toBe(200);
    const body = res.json<{ token: string; identity: string; ttl: number }>();
    expect(body).toMatchObject({ identity: 'console-tab-1', ttl: 3600 });
    expect((await register(body.token)).answer).toMatchObject({ type: 'registered', identity: 'console-tab-1', accountSid: t.accountSid });
    expect((await t.request('POST', '/console/voice-token', { form: { Identity: 'two words' } })).status).toBe(400);
    expect((await t.request('POST', '/console/voice-token', { form: { Identity: 'x' }, auth: null })).status).toBe(401);
  });

  it('answers upgrades of other paths 404', async () => {
    const response = await fetch(`${t.baseUrl}/client/v2`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } }).catch((error: unknown) => error);
    expect(response instanceof Response ? response.status : 'failed').not.toBe(101);
  });
});

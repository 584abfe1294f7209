/**
 * A SIP Domain that Conclave is the registrar of (issue 14 §2), made through the REST API as a
 * user would: the domain with `SipRegistration=true`, a credential list with the users, mapped
 * for registrations; and phones registered to it with digest (phone-registration.ts).
 */
import { expect } from 'vitest';
import { PhoneRegistration, type RegisterAnswer, type RegisterOptions } from './phone-registration.js';
import type { SipPhone } from './sip-phone.js';
import type { TestApp } from './test-app.js';

/** POSTs a form to the account's `path` and expects 201; the created resource's SID. */
export async function createResource(t: TestApp, path: string, form: Record<string, string>): Promise<{ sid: string }> {
  const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}${path}`, { form });
  expect(res.status, res.body).toBe(201);
  return res.json<{ sid: string }>();
}

/** The domain `domainName` answered by `voiceUrl`, whose registrar takes `users` (username and password); its SID. */
export async function createRegistrarDomain(t: TestApp, domainName: string, voiceUrl: string, users: ReadonlyArray<{ username: string; password: string }>): Promise<string> {
  const domain = await createResource(t, '/SIP/Domains.json', { DomainName: domainName, SipRegistration: 'true', VoiceUrl: voiceUrl });
  const list = await createResource(t, '/SIP/CredentialLists.json', { FriendlyName: 'phones' });
  for (const { username, password } of users) await createResource(t, `/SIP/CredentialLists/${list.sid}/Credentials.json`, { Username: username, Password: password });
  await createResource(t, `/SIP/Domains/${domain.sid}/Auth/Registrations/CredentialListMappings.json`, { CredentialListSid: list.sid });
  return domain.sid;
}

/** `phone`'s registration as `aor` with the test app's registrar (its SIP port on 127.0.0.1). */
export function registrationOf(t: TestApp, phone: SipPhone, aor: string): PhoneRegistration {
  return new PhoneRegistration(phone, aor, { host: '127.0.0.1', port: t.app.sipAddress()!.port });
}

/** Registers `phone` as `aor` and expects 200. */
export async function registerPhone(t: TestApp, phone: SipPhone, aor: string, options: RegisterOptions): Promise<RegisterAnswer> {
  const answer = await registrationOf(t, phone, aor).register(options);
  expect(answer.status).toBe(200);
  return answer;
}

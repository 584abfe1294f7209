/**
 * The carrier trunk with outbound registration (issue 14 §4), as a user of the real app sees
 * it: with CONCLAVE_SIP_TRUNK_REGISTER=true Conclave registers its Contact with the carrier
 * (digest checked by the carrier itself, test/helpers/carrier-registrar.ts) and says so in one
 * log line; the carrier delivers a call to that Contact — Request-URI user = our username, the
 * dialled number in To — and the number's VoiceUrl answers it; on shutdown the binding is
 * removed (Expires: 0).
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CarrierRegistrar } from '../helpers/carrier-registrar.js';
import { ownNumber, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp } from '../helpers/webhook-receiver.js';

const NUMBER = '+15005550123';
const USERNAME = 'acme-trunk';
const PASSWORD = 'Trunk-Password-7';

type LogLine = { level: number; msg: string };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the carrier trunk with registration', () => {
  it('registers, takes the call the carrier delivers to its Contact for the number in To, and unregisters on shutdown', async () => {
    const registrar = await CarrierRegistrar.start({ username: USERNAME, password: PASSWORD, grant: 120 });
    cleanups.push(() => registrar.close());
    const { web, routes } = await startTwimlApp();
    cleanups.push(() => web.close());
    routes.set('/voice', () => '<Response><Pause length="10"/></Response>');
    const lines: LogLine[] = [];
    const t: TestApp = await startTestApp('sqlite', {
      sip: true,
      sipTrunk: { uri: `sip:127.0.0.1:${registrar.port}`, auth: { username: USERNAME, password: PASSWORD }, register: true, registerExpires: 600 },
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }),
    });
    let closed = false;
    cleanups.push(() => (closed ? undefined : t.close()));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
    const sip = t.app.sipAddress()!;

    const contact = await until(() => registrar.contact, 5000, 'a registration');
    expect(contact).toBe(`sip:${USERNAME}@127.0.0.1:${sip.port}`);
    await until(() => lines.find((l) => l.msg.startsWith('SIP: registered with the carrier trunk')), 5000, 'the registered log line');

    const call = await registrar.call(contact, NUMBER, sip);
    expect(call.status).toBe(200);
    const fetched = web.requests.find((r) => r.path.startsWith('/voice'));
    expect(fetched?.params.To).toBe(NUMBER);
    expect(fetched?.params.Direction).toBe('inbound');
    expect(await call.hangup()).toBe(200);

    const before = registrar.registers.length;
    closed = true;
    await t.close();
    const removal = registrar.registers.slice(before).find((r) => r.expires === 0);
    expect(removal?.status).toBe(200);
    expect(lines.filter((l) => l.level >= 40 && /carrier trunk/.test(l.msg))).toEqual([]);
  });
});

/**
 * REGISTER at the user agent core (RFC 3261 §10.3): handed to the application's registrar when
 * it has one, answered once through `respond` (a second answer is ignored), 500 when the
 * registrar throws (§21.5.1), and 501 as any unknown method when there is none — over real UDP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { newTag } from '../../../src/sip/dialog/dialog.js';
import { createRequest, type SipRequest, type SipResponse } from '../../../src/sip/message.js';
import { newBranch } from '../../../src/sip/transaction/transaction-key.js';
import { SipUdpTransport } from '../../../src/sip/udp-transport.js';
import { SipUserAgent, type SipUserAgentOptions } from '../../../src/sip/ua/user-agent.js';

const open: Array<{ ua: SipUserAgent; transport: SipUdpTransport }> = [];

async function agent(options: Partial<SipUserAgentOptions> = {}): Promise<{ ua: SipUserAgent; transport: SipUdpTransport }> {
  const transport = await SipUdpTransport.open({ host: '127.0.0.1', port: 0 });
  const ua = new SipUserAgent({ transport, address: transport.address, ...options });
  const opened = { ua, transport };
  open.push(opened);
  return opened;
}

afterEach(async () => {
  for (const { ua, transport } of open.splice(0)) {
    ua.close();
    await transport.close();
  }
});

function register(from: { transport: SipUdpTransport }): SipRequest {
  const { host, port } = from.transport.address;
  const request = createRequest('REGISTER', 'sip:acme.example');
  request.headers.append('Via', `SIP/2.0/UDP ${host}:${port};branch=${newBranch()};rport`);
  request.headers.append('Max-Forwards', '70');
  request.headers.append('From', `<sip:bob@acme.example>;tag=${newTag()}`);
  request.headers.append('To', '<sip:bob@acme.example>');
  request.headers.append('Call-ID', `${newTag()}@test`);
  request.headers.append('CSeq', '1 REGISTER');
  request.headers.append('Contact', `<sip:bob@${host}:${port}>`);
  return request;
}

function send(from: { ua: SipUserAgent; transport: SipUdpTransport }, to: { transport: SipUdpTransport }): Promise<SipResponse> {
  return new Promise((resolve) => {
    from.ua.layer.sendRequest(register(from), to.transport.address, (response) => {
      if (response.status >= 200) resolve(response);
    });
  });
}

describe('REGISTER at the user agent', () => {
  it('is 501 Not Implemented without a registrar', async () => {
    const [phone, server] = [await agent(), await agent()];
    const response = await send(phone, server);
    expect(response.status).toBe(501);
    expect(response.headers.get('Allow')).not.toContain('REGISTER');
  });

  it("goes to the registrar, whose first answer is sent with its headers", async () => {
    const seen: string[] = [];
    const server = await agent({
      onRegister: (request, source, respond) => {
        seen.push(`${request.method} ${source.host}`);
        respond(200, { headers: [['Contact', '<sip:bob@10.0.0.1>;expires=60']] });
        respond(500);
      },
    });
    const response = await send(await agent(), server);
    expect(response.status).toBe(200);
    expect(response.headers.get('Contact')).toBe('<sip:bob@10.0.0.1>;expires=60');
    expect(seen).toEqual(['REGISTER 127.0.0.1']);
  });

  it('is 500 when the registrar fails', async () => {
    const errors: unknown[] = [];
    const server = await agent({ onError: (e) => errors.push(e), onRegister: () => Promise.reject(new Error('store down')) });
    expect((await send(await agent(), server)).status).toBe(500);
    expect(errors).toHaveLength(1);
  });
});

/**
 * Conclave with a carrier trunk (CONCLAVE_SIP_TRUNK, issue 14 §4) for the trunk tests: SIP on a
 * free port of 127.0.0.1 or of the host given (a netns veth address), the trunk as given (its
 * URI names the test's carrier: a SIP phone, sipp, or a name a test DNS server knows).
 */
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import type { SipTlsConfig, SipTrunkConfig } from '../../src/config.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { openTestStore } from './stores.js';
import { apiClient, testConfig, type TestApp } from './test-app.js';

export interface TrunkApp {
  app: App;
  accountSid: string;
  request: TestApp['request'];
  /** `/2010-04-01/Accounts/{AccountSid}/Calls`. */
  calls: string;
  close(): Promise<void>;
}

export async function startTrunkApp(
  trunk: Omit<SipTrunkConfig, 'register' | 'registerExpires'>,
  options: { sipHost?: string; sipDnsServers?: string[]; sipTls?: SipTlsConfig } = {},
): Promise<TrunkApp> {
  const { store, cleanup } = await openTestStore('sqlite');
  const config = testConfig('sqlite', {
    sip: options.sipHost ? { host: options.sipHost } : true,
    ...(options.sipDnsServers ? { sipDnsServers: options.sipDnsServers } : {}),
    ...(options.sipTls ? { sipTls: options.sipTls } : {}),
  });
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const app = await createApp({ ...config, sip: { ...config.sip!, trunk: { ...trunk, register: false, registerExpires: 600 } } }, { accountSid, authToken }, { store, logger: pino({ level: 'silent' }) });
  const request = apiClient(await app.listen(), accountSid, authToken);
  return {
    app,
    accountSid,
    request,
    calls: `/2010-04-01/Accounts/${accountSid}/Calls`,
    async close() {
      await app.close();
      await cleanup();
    },
  };
}

/**
 * Calls browsers place (the Voice SDK's `device.connect`), run by the Application their Access
 * Token names.
 */
import type { Call } from '../../domain/call.js';
import type { InboundLeg } from '../../domain/call-ports.js';
import { RuleViolation, TwilioCode } from '../../errors.js';
import { getApplication } from '../applications.js';
import type { CallServiceContext } from './call-service-context.js';
import { inboundCall } from './receive-call.js';

/**
 * A call a browser places with its Access Token (the Voice SDK's `device.connect`): an inbound
 * call from `client:<identity>` to `params.To` that runs the TwiML of the Application the token's
 * grant names (`outgoing.application_sid`), its first request told, besides the call's own
 * parameters (Caller/From `client:alice`, Called/To, Direction `inbound`), `ApplicationSid` and
 * every custom parameter — the grant's `outgoing.params`, then the browser's
 * (https://www.twilio.com/docs/voice/sdks/javascript/twiliodevice#deviceconnectconnectoptions).
 * 404 / 20404 when the Application is not the account's; 400 when it has no VoiceUrl.
 */
export async function receiveClientCall(
  ctx: CallServiceContext,
  placed: { accountSid: string; identity: string; applicationSid: string; params: Record<string, string>; leg: InboundLeg },
): Promise<Call> {
  const application = await getApplication(ctx, placed.accountSid, placed.applicationSid);
  if (!application.voiceUrl) {
    throw new RuleViolation(TwilioCode.invalidParameter, `Application ${application.sid} has no VoiceUrl, so a call placed with it would have no TwiML; set its VoiceUrl`);
  }
  const from = `client:${placed.identity}`;
  const call = inboundCall(ctx, {
    accountSid: placed.accountSid,
    to: placed.params.To ?? '',
    from,
    phoneNumberSid: null,
    url: application.voiceUrl,
    method: application.voiceMethod,
    fallbackUrl: application.voiceFallbackUrl,
    fallbackMethod: application.voiceFallbackMethod,
    statusCallback: application.statusCallback,
    statusCallbackMethod: application.statusCallbackMethod,
  });
  await ctx.store.insertCall(call);
  const source = {
    kind: 'url' as const,
    url: application.voiceUrl,
    method: application.voiceMethod,
    fallbackUrl: application.voiceFallbackUrl,
    fallbackMethod: application.voiceFallbackMethod,
    params: { ...placed.params, ApplicationSid: application.sid },
  };
  ctx.calls.start(call, { kind: 'client', identity: placed.identity }, source, { inbound: placed.leg });
  return call;
}

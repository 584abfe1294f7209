/** TwoHundredRetransmitter (RFC 3261 §13.3.1.4): 2xx retransmission by the UAS core. */
import { describe, expect, it } from 'vitest';
import { responseTo } from '../../../src/sip/message.js';
import { TwoHundredRetransmitter } from '../../../src/sip/transaction/two-hundred-retransmitter.js';
import { DEFAULT_TIMING } from '../../../src/sip/transaction/timing.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { aRequest } from '../helpers/messages.js';
import { RecordingTransport } from '../helpers/recording-transport.js';

function setup(reliable = false) {
  const timers = new ManualTimers();
  const transport = new RecordingTransport(reliable, timers);
  let gaveUp = 0;
  const retransmitter = new TwoHundredRetransmitter({
    transport,
    timers,
    timing: DEFAULT_TIMING,
    response: responseTo(aRequest('INVITE'), 200, 'tt'),
    destination: { host: 'h', port: 5060 },
    onGiveUp: () => gaveUp++,
  });
  return { timers, transport, retransmitter, gaveUp: () => gaveUp };
}

describe('TwoHundredRetransmitter', () => {
  it('resends at T1 doubling to T2 and gives up after 64*T1', () => {
    const { timers, transport, retransmitter, gaveUp } = setup();
    timers.advance(64 * 500);
    expect(transport.times('200')).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(gaveUp()).toBe(1);
    expect(retransmitter.closed).toBe(true);
    expect(timers.pending).toBe(0);
  });

  it('retransmits on reliable transports too (the 2xx is end to end)', () => {
    const { timers, transport } = setup(true);
    timers.advance(1500);
    expect(transport.times('200')).toEqual([500, 1500]);
  });

  it('stops at the ACK without giving up', () => {
    const { timers, transport, retransmitter, gaveUp } = setup();
    timers.advance(2000);
    retransmitter.acknowledged();
    retransmitter.acknowledged();
    timers.advance(60_000);
    expect(transport.times('200')).toEqual([500, 1500]);
    expect(gaveUp()).toBe(0);
    expect(timers.pending).toBe(0);
  });

  it('gives up when the transport fails', () => {
    const { timers, transport, gaveUp } = setup();
    transport.failing = true;
    timers.advance(500);
    expect(gaveUp()).toBe(1);
    expect(timers.pending).toBe(0);
  });
});

/**
 * Custom sipp scenarios for the Conclave interop tests, and a wait for a peer's socket to be
 * bound inside the namespace (a UAS must listen before Conclave sends it an INVITE).
 */
import type { Netns } from './netns.js';
import { findTool, run } from './tools.js';

/**
 * A UAS that challenges: INVITE → 100, 401 (WWW-Authenticate Digest) → ACK; the INVITE again
 * with Authorization, checked by `verifyauth` against alice/secret → 200 (then ACK, and the
 * BYE that ends the call → 200), or 403 (→ ACK, end) when the credentials are wrong.
 *
 * The ACK of the 401 and the new INVITE are separate transactions, and RFC 3261 does not order
 * them (§17.1.1.2: the transaction passes the 401 up to the TU, which may retry at once, and
 * generates the ACK): both orders are accepted. The retried INVITE's headers are kept in
 * variables, since `[last_…]` would name the ACK when it arrives second. The screen counts
 * tell which way it went (`screenCounts`): the first `ACK` line counts an ACK that came first.
 */
const CAPTURE_INVITE = `
    <action>
      <verifyauth assign_to="authvalid" username="alice" password="secret" />
      <ereg regexp=".*" search_in="hdr" header="Via:" check_it="true" assign_to="via" />
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="from" />
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="to" />
      <ereg regexp=".*" search_in="hdr" header="Call-ID:" check_it="true" assign_to="callid" />
      <ereg regexp=".*" search_in="hdr" header="CSeq:" check_it="true" assign_to="cseq" />
    </action>`;

export const RESPONSE_HEADERS = `Via:[$via]
      From:[$from]
      To:[$to];tag=[pid]SIPpTag02[call_number]
      Call-ID:[$callid]
      CSeq:[$cseq]`;

/** 200 OK to the request received last. */
export const OK_TO_LAST = `  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
`;

/** The BYE that ends a call, answered 200. */
export const BYE_OK = `  <recv request="BYE" />
${OK_TO_LAST}`;

/**
 * The end of a UAS scenario that checked credentials into `authvalid` (`<verifyauth>`) and kept
 * the INVITE's headers (RESPONSE_HEADERS): 403 (→ ACK, to the label `done`) when they are wrong;
 * else 200 with a PCMU answer from `user`, the ACK, and the BYE that ends the call (`bye`,
 * by default answered 200 at once).
 */
export const answerIfVerified = (user: string, bye = BYE_OK): string => `  <nop hide="true" test="authvalid" next="good" />
  <send>
    <![CDATA[
      SIP/2.0 403 Forbidden
      ${RESPONSE_HEADERS}
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" next="done" />
  <label id="good" />
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      ${RESPONSE_HEADERS}
      Contact: <sip:${user}@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

${pcmuOffer(user)}

    ]]>
  </send>
  <recv request="ACK" crlf="true" />
${bye}`;

/** An SDP body offering PCMU on sipp's media port (sipp fills in the bracketed keywords). */
export const pcmuOffer = (user: string): string => `      v=0
      o=${user} 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000`;

export const DIGEST_UAS_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="conclave digest uas">
  <recv request="INVITE" crlf="true" />
  <send>
    <![CDATA[
      SIP/2.0 100 Trying
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="sipp.test", nonce="[pid]n[call_number]c[clock_tick]", algorithm=MD5
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" optional="true" next="acked" />
  <recv request="INVITE">${CAPTURE_INVITE}
  </recv>
  <recv request="ACK" next="answer" />
  <label id="acked" />
  <recv request="INVITE">${CAPTURE_INVITE}
  </recv>
  <label id="answer" />
${answerIfVerified('alice')}
  <label id="done" />
</scenario>
`;

/**
 * A UAC that gives up before the answer: INVITE → (100) → 180 → CANCEL (same branch, RFC 3261
 * §9.1) → 200 for the CANCEL and 487 for the INVITE → ACK (same branch, §17.1.1.3).
 */
export const CANCEL_UAC_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="conclave cancel before answer">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

${pcmuOffer('sipp')}

    ]]>
  </send>
  <recv response="100" optional="true" />
  <recv response="180" />
  <send retrans="500">
    <![CDATA[
      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" />
  <recv response="487" />
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
`;

/**
 * How many times each scenario line for `message` (`401`, `INVITE`, `ACK`…) went in `direction`,
 * read from sipp's last Scenario Screen, in scenario order. A UAS screen puts the arrow first
 * (`----------> INVITE` received, `<---------- 401` sent); a UAC screen puts the name first
 * (`INVITE ---------->` sent, `180 <----------` received).
 */
export function screenCounts(screen: string, message: string, direction: 'sent' | 'received'): number[] {
  const last = screen.split('Scenario Screen').at(-1) ?? '';
  const scenario = last.split('Statistics Screen')[0] ?? '';
  const counts: number[] = [];
  for (const line of scenario.split('\n')) {
    const arrowFirst = line.match(/^\s*(-+>|<-+)\s+(\S+)\s+(\d+)/);
    const nameFirst = line.match(/^\s*(\S+)\s+(-+>|<-+)\s+(?:[A-Z]-RTD\d+\s+)?(\d+)/);
    if (arrowFirst && arrowFirst[2] === message) {
      if ((arrowFirst[1]!.endsWith('>') ? 'received' : 'sent') === direction) counts.push(Number(arrowFirst[3]));
    } else if (nameFirst && nameFirst[1] === message) {
      if ((nameFirst[2]!.endsWith('>') ? 'sent' : 'received') === direction) counts.push(Number(nameFirst[3]));
    }
  }
  return counts;
}

/** Polls `ss` inside the namespace until something listens on `port` (`udp` or `tcp`). */
export async function waitListening(netns: Netns, port: number, protocol: 'udp' | 'tcp', timeoutMs = 5000): Promise<void> {
  const ss = findTool('ss') ?? 'ss';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await run(netns.execPrefix[0] as string, [...netns.execPrefix.slice(1), ss, '-Hln', protocol === 'udp' ? '-u' : '-t', 'sport', '=', `:${port}`]);
    if (result.code === 0 && result.stdout.trim().length > 0) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${protocol} ${port} in ${netns.name} after ${timeoutMs} ms: ${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The far end hangs up: its BYE → 200 (the last step of the keypad scenarios). */
const BYE_ENDS_THE_CALL = `  <recv request="BYE" />
${OK_TO_LAST.trimEnd()}`;

/**
 * A UAC whose caller uses the keypad: INVITE offering PCMU, and telephone-event 101 when
 * `telephoneEvent` (RFC 4733 §7.1.1), else nothing but PCMU (a line that can only send keys as
 * tones); → (100/180/183) 200 → ACK; then sipp replays `pcap` (keypad-pcap.ts: 20 ms audio
 * frames with the keys in them) from its media port to the media address Conclave answered
 * with, while it waits for Conclave's BYE → 200.
 */
export function keypadUacScenario(options: { pcap: string; telephoneEvent: boolean }): string {
  const formats = options.telephoneEvent ? '0 101' : '0';
  const telephoneEvent = options.telephoneEvent ? '\n      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-15' : '';
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="conclave keypad uac">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP ${formats}
      a=rtpmap:0 PCMU/8000${telephoneEvent}
      a=ptime:20

    ]]>
  </send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="183" optional="true" />
  <recv response="200" />
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop>
    <action>
      <exec play_pcap_audio="${options.pcap}" />
    </action>
  </nop>
${BYE_ENDS_THE_CALL}
</scenario>
`;
}

/**
 * A UAS on a line without telephone-event: INVITE → 100 → 200 whose SDP answers PCMU only;
 * ACK; the BYE that ends the call → 200. Its media is at `media` (an RTP socket the test reads,
 * so what Conclave sends there can be decoded), else at sipp's own media address; with `pcap`
 * (keypad-pcap.ts, `inband`) sipp replays that audio to Conclave once the ACK has come.
 */
export function plainAudioUasScenario(options: { media?: { address: string; port: number }; pcap?: string }): string {
  const address = options.media?.address ?? '[media_ip]';
  const port = options.media?.port ?? '[media_port]';
  const play = options.pcap === undefined ? '' : `
  <nop>
    <action>
      <exec play_pcap_audio="${options.pcap}" />
    </action>
  </nop>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="conclave uas without telephone-event">
  <recv request="INVITE" crlf="true" />
  <send>
    <![CDATA[
      SIP/2.0 100 Trying
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP4 ${address}
      s=-
      c=IN IP4 ${address}
      t=0 0
      m=audio ${port} RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20

    ]]>
  </send>
  <recv request="ACK" crlf="true" />${play}
${BYE_ENDS_THE_CALL}
</scenario>
`;
}

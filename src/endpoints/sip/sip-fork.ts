/**
 * Ringing every phone a SIP Domain user has registered (issue 14 §2): `<Dial><Sip>` or
 * `Calls.create To=sip:bob@<domain>` with several live bindings. Conclave is the calling user
 * agent and forks the call itself, as a forking proxy would in parallel (RFC 3261 §16.7): one
 * INVITE per binding, all sent at once, each its own call (Call-ID, dialog, client transaction)
 * so that two bindings of one device never see a merged request (§8.2.2.2), all with the same
 * SDP offer of the call's one RTP leg. A binding with a Path (RFC 3327) is reached through it:
 * Route headers preloaded with the Path, sent to its first hop (§8.1.2).
 *
 * The first 2xx wins: the leg sends to that answer's address with its codec (and SRTP key), and
 * every other INVITE is cancelled (§9.1: once it has sent a provisional). A 2xx that comes after
 * the winner's, or crosses its CANCEL, is ACKed and then BYE'd (§13.2.2.4; the user agent does
 * this for a cancelled INVITE, the fork for one that answered first). The first 180/183 from
 * any phone is the call's ringing. The call's `Timeout` cancels every INVITE (each fails 408),
 * and so does the REST API cancelling the call.
 *
 * When every phone fails, the call's outcome is the best of their answers (§16.7 step 6,
 * simplified): a 6xx from any phone (600 Busy Everywhere: busy; 603 Decline: failed), else
 * busy when any said 486, else no-answer when any timed out, was unavailable or was cancelled
 * (408/480/487), else the lowest status (failed). A phone that answers with SRTP it was not
 * offered (or without the SRTP it was) is hung up and counts as 488, and the others ring on.
 * Browsers (JsSIP bindings over WebSocket) get a WebRTC offer when every binding is one; a user
 * with both phones and browsers registered has the phones rung (the call has one media leg).
 */
import type { DialOptions, DialResult } from '../../domain/call-ports.js';
import { uriDestination } from '../../sip/dialog/dialog.js';
import { parseNameAddr } from '../../sip/header-values.js';
import { parseSipUri } from '../../sip/sip-uri.js';
import type { SipDestination } from '../../sip/transaction/transport.js';
import type { SipCall } from '../../sip/ua/call.js';
import type { SipGateway } from './sip-gateway.js';
import { FAILOVER_AFTER_MS, fromUri, openOfferMedia, outcomeOf, overWebSocket } from './sip-outbound.js';

/** One registered binding to ring: its Request-URI and, when it came through proxies, its Path. */
export interface ForkBranch {
  uri: string;
  route?: readonly string[];
}

/** Where a branch's INVITE goes: DNS's servers for a host name, undefined for an IP address (sip-outbound.ts). */
export type ServerLookup = (uri: string) => Promise<SipDestination[] | undefined>;

const BUSY_HERE = 486;
const GAVE_NO_ANSWER = new Set([408, 480, 487]);

/** The deciding status when every branch failed (see the header). */
export function bestFailure(statuses: readonly number[]): number {
  const global = statuses.find((s) => s >= 600);
  if (global !== undefined) return global;
  if (statuses.includes(BUSY_HERE)) return BUSY_HERE;
  const unanswered = statuses.find((s) => GAVE_NO_ANSWER.has(s));
  if (unanswered !== undefined) return unanswered;
  return statuses.length > 0 ? Math.min(...statuses) : 480;
}

export class SipFork {
  constructor(
    private readonly gateway: SipGateway,
    private readonly serversOf: ServerLookup,
  ) {}

  /** Rings every branch of `dialled` (its `;secure=true` makes SRTP required on all) until one answers, all fail, or the call is cancelled. */
  async dial(dialled: string, branches: readonly ForkBranch[], options: DialOptions): Promise<DialResult> {
    const { gateway } = this;
    const { callSid, signal } = options;
    // One offer for every branch: browsers (WebSocket bindings) and phones cannot share one, so with both the phones ring.
    const webrtc = branches.every((b) => overWebSocket(b.uri));
    const reachable = webrtc ? branches : branches.filter((b) => !overWebSocket(b.uri));
    if (reachable.length < branches.length) gateway.log.info({ callSid, uri: dialled }, `SIP: ${dialled} rings its phones, not its WebRTC clients (one offer cannot serve both)`);
    const routed = (await Promise.all(reachable.map((branch) => this.route(branch, callSid)))).filter((r) => r !== undefined);
    if (routed.length === 0) return { outcome: 'failed' };
    if (signal.aborted) return { outcome: 'canceled' };
    const opened = await openOfferMedia(gateway, options, dialled, webrtc);
    if ('outcome' in opened) return opened;
    const { leg, sdpOffer } = opened;
    const from = fromUri(options.from, gateway.publicAddress, gateway.port);
    const failures: number[] = [];
    const calls = new Map<SipCall, string>();
    for (const { branch, targets } of routed) {
      try {
        const call = gateway.ua.invite({
          to: branch.uri,
          from,
          sdpOffer,
          timeoutMs: options.timeoutSeconds * 1000,
          targets,
          ...(targets.length > 1 ? { failoverAfterMs: FAILOVER_AFTER_MS } : {}),
          ...(branch.route ? { headers: branch.route.map((r) => ['Route', r] as const) } : {}),
          ...(options.sipAuth ? { auth: options.sipAuth } : {}),
        });
        calls.set(call, branch.uri);
        gateway.traceCall(call.callId, callSid);
      } catch (error) {
        gateway.log.warn({ err: error, callSid, uri: branch.uri }, `SIP: cannot dial ${branch.uri}: ${(error as Error).message}`);
        failures.push(503);
      }
    }
    if (calls.size === 0) {
      await leg.close();
      return outcomeOf(bestFailure(failures), false);
    }
    gateway.log.info({ callSid, uri: dialled, branches: [...calls.values()] }, `SIP: ${dialled} rings ${calls.size} registered phones`);

    let winner: SipCall | undefined;
    const cancelOthers = (): void => {
      for (const call of calls.keys()) if (call !== winner) call.hangup('canceled');
    };
    let settle: (result: DialResult) => void = () => {};
    const outcome = new Promise<DialResult>((resolve) => (settle = resolve));
    const onAbort = (): void => {
      cancelOthers();
      // A CANCEL ends each INVITE with 487 Request Terminated (RFC 3261 §9.2).
      settle({ outcome: 'canceled', sipResponseCode: 487 });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let rang = false;
    let pending = calls.size;
    const branchFailed = (status: number): void => {
      failures.push(status);
      if (--pending === 0 && !winner) settle(outcomeOf(bestFailure(failures), signal.aborted));
    };
    for (const [call, uri] of calls) {
      call.on('provisional', (p) => {
        if (!rang && !winner && (p.status === 180 || p.status === 183)) {
          rang = true;
          options.onRinging();
        }
      });
      call.on('answered', (answer) => {
        if (winner || signal.aborted) {
          // Answered after another phone won (or as the call was cancelled): ACKed already, now BYE.
          gateway.log.info({ callSid, uri }, `SIP: ${uri} answered after the call was taken; hung up`);
          call.hangup('canceled');
          return;
        }
        const result = opened.connect(call, answer, { callSid, uri });
        if (result.outcome !== 'answered') {
          branchFailed(result.sipResponseCode ?? 488);
          return;
        }
        winner = call;
        gateway.log.info({ callSid, uri }, `SIP: ${uri} answered ${dialled}; the other phones are cancelled`);
        cancelOthers();
        settle(result);
      });
      call.on('failed', ({ status, reason }) => {
        if (winner) return;
        gateway.log.info({ callSid, uri, status, reason }, `SIP: ${uri} answered ${status} ${reason}`);
        branchFailed(status);
      });
    }
    const result = await outcome;
    signal.removeEventListener('abort', onAbort);
    if (result.outcome !== 'answered') await leg.close();
    return result;
  }

  /**
   * Where a branch's INVITE goes: its first Path hop when it has a Path (loose routing,
   * RFC 3261 §16.12 / RFC 3327), else its URI; host names are looked up (RFC 3263). Undefined,
   * logged, when there is nowhere to send it.
   */
  private async route(branch: ForkBranch, callSid: string): Promise<{ branch: ForkBranch; targets: SipDestination[] } | undefined> {
    const [firstHop] = branch.route ?? [];
    const next = firstHop === undefined ? branch.uri : parseNameAddr(firstHop)?.uri;
    try {
      if (next === undefined) throw new Error(`its Path ${firstHop} is not a SIP URI`);
      const servers = await this.serversOf(next);
      const targets = servers ?? [uriTarget(next)];
      return { branch, targets };
    } catch (error) {
      this.gateway.log.warn({ err: error, callSid, uri: branch.uri }, `SIP: cannot dial ${branch.uri}: ${(error as Error).message}`);
      return undefined;
    }
  }
}

/** The address a sip: URI with an IP address names, over the transport its `transport` parameter names. */
function uriTarget(uri: string): SipDestination {
  const destination = uriDestination(uri);
  if (!destination) throw new Error(`${uri} names no address`);
  const transport = parseSipUri(uri)?.params.get('transport');
  const named = typeof transport === 'string' ? transport.toLowerCase() : undefined;
  return named === 'tcp' || named === 'tls' || named === 'udp' ? { ...destination, transport: named } : destination;
}

/**
 * Calls whose node is gone are over: nothing carries them any more. They are ended — `completed`
 * if they had answered, `failed` if not — and their participants taken out of their
 * conferences, so that no conference waits for ever on a ghost (a conference ends if that was
 * its last participant, or its end-on-exit participant). The callbacks the dead node owed go
 * out now, once: each call's `completed` status callback (the conditional write of its end
 * lets only one writer tell it) and its conference's `participant-leave`/`conference-end`.
 *
 * Two callers: the embedded SQLite server at start, for the calls a previous run left live when
 * it stopped without hanging them up (a crash, a kill -9: `sweepOrphanCalls`); and, with
 * several nodes, the survivor that declared a node dead, for that node's calls (reap-node.ts).
 */
import type { Call } from '../../domain/call.js';
import { ResourceNotFound, RuleViolation } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import { removeParticipant } from '../remove-participant.js';
import type { CallNotifier } from '../../domain/call-ports.js';
import { CallStatusKeeper, withStatus } from './call-status.js';

const BATCH = 200;

/** Ends every call `next` lists, batch after batch, until it lists none; returns how many. */
export async function endCallsLeftBehind(ctx: ServiceContext, notifier: CallNotifier, next: (limit: number) => Promise<Call[]>): Promise<number> {
  const status = new CallStatusKeeper(ctx.store, ctx.clock, notifier);
  let ended = 0;
  for (;;) {
    const orphans = await next(BATCH);
    if (orphans.length === 0) return ended;
    for (const call of orphans) {
      const participant = await ctx.store.findParticipantByCall(call.sid);
      const final = call.status === 'in-progress' ? 'completed' : 'failed';
      const after = withStatus(call, final, ctx.clock.now());
      if (participant) {
        try {
          const address = { accountSid: participant.accountSid, conferenceSid: participant.conferenceSid, participant: call.sid };
          await removeParticipant(ctx, address, { reason: 'hung-up', callStatus: after.status });
        } catch (error) {
          if (!(error instanceof ResourceNotFound) && !(error instanceof RuleViolation)) throw error;
        }
      }
      await status.move(call, final);
      ended++;
    }
  }
}

/** SQLite, at start: every call a previous run left live. */
export function sweepOrphanCalls(ctx: ServiceContext, notifier: CallNotifier): Promise<number> {
  return endCallsLeftBehind(ctx, notifier, (limit) => ctx.store.listLiveCalls(limit));
}

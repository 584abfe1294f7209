/**
 * Calls that were live when the process stopped without hanging them up (a crash, a kill -9)
 * are over: nothing carries them any more. At start, the embedded SQLite store (one server
 * process) ends them — `completed` if they had answered, `failed` if not — and takes their
 * participants out of their conferences, so that no conference waits for ever on a ghost (the
 * conference ends if that was its last participant). The callbacks the dead process owed go out
 * now: each call's `completed` status callback (if it asked for one) and its conference's
 * `participant-leave`/`conference-end` (published on the bus like any other leave).
 * PostgreSQL may be shared with live nodes, so it is not swept.
 */
import { ResourceNotFound, RuleViolation } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import { removeParticipant } from '../remove-participant.js';
import type { CallNotifier } from '../../domain/call-ports.js';
import { CallStatusKeeper, withStatus } from './call-status.js';

const BATCH = 200;

export async function sweepOrphanCalls(ctx: ServiceContext, notifier: CallNotifier): Promise<number> {
  const status = new CallStatusKeeper(ctx.store, ctx.clock, notifier);
  let swept = 0;
  for (;;) {
    const orphans = await ctx.store.listLiveCalls(BATCH);
    if (orphans.length === 0) return swept;
    for (const call of orphans) {
      const participant = await ctx.store.findParticipantByCall(call.sid);
      const final = call.status === 'in-progress' ? 'completed' : 'failed';
      const ended = withStatus(call, final, ctx.clock.now());
      if (participant) {
        try {
          const address = { accountSid: participant.accountSid, conferenceSid: participant.conferenceSid, participant: call.sid };
          await removeParticipant(ctx, address, { reason: 'hung-up', callStatus: ended.status });
        } catch (error) {
          if (!(error instanceof ResourceNotFound) && !(error instanceof RuleViolation)) throw error;
        }
      }
      await status.move(call, final);
      swept++;
    }
  }
}

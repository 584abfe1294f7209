/**
 * What the survivor that declared a node dead does with what that node left (issue 11: "its
 * calls are completed (status callbacks sent once, by a survivor), its participants leave with
 * the right events and the conference rules apply"):
 *
 * 1. its commands are dropped and its pending requests failed, so no requester waits on it;
 * 2. each live conference homed there moves to a live node that runs calls in it — the one
 *    with the most — or, when none does, to this node; the move is told on the cluster channel
 *    so the nodes link their rooms to the new home (conference-trunks.ts), and the new home
 *    takes over the conference's queued callbacks. The conference goes on (README says so);
 * 3. its calls are ended as calls left behind are (sweep-orphan-calls.ts): their participants
 *    leave, `participant_hung_up`, and each call's `completed` is told, once.
 */
import type { CallNotifier } from '../../domain/call-ports.js';
import type { ServiceContext } from '../context.js';
import { endCallsLeftBehind } from '../calls/sweep-orphan-calls.js';

const BATCH = 200;

export interface ReapReport {
  moved: number;
  ended: number;
}

export async function reapNode(ctx: ServiceContext, notifier: CallNotifier, deadNodeId: string): Promise<ReapReport> {
  await ctx.store.dropCommandsOf(deadNodeId, `node ${deadNodeId} was declared dead`);
  let moved = 0;
  for (;;) {
    const homeless = await ctx.store.listConferencesHomedAt(deadNodeId, BATCH);
    if (homeless.length === 0) break;
    for (const conference of homeless) {
      const [busiest] = await ctx.store.listNodesInConference(conference.sid);
      const home = busiest ?? ctx.node.id;
      const done = await ctx.store.transaction(async (tx) => {
        if (!(await tx.moveConferenceHome(conference.sid, deadNodeId, home))) return false;
        await tx.notifyCluster([{ t: 'home', conference: conference.sid, node: home }]);
        return true;
      });
      if (done) moved++;
      else if ((await ctx.store.findConference(conference.accountSid, conference.sid))?.homeNodeId === deadNodeId) {
        // Neither moved nor ended: it cannot be moved at all; stop rather than loop.
        throw new Error(`conference ${conference.sid} of dead node ${deadNodeId} could not be moved`);
      }
    }
  }
  const ended = await endCallsLeftBehind(ctx, notifier, (limit) => ctx.store.listLiveCallsOfNode(deadNodeId, limit));
  return { moved, ended };
}

/**
 * The context of the services that place, change and end calls: the common one, the engine of
 * this node's calls, and the commands that reach the node running any other call.
 */
import type { NodeCommands } from '../cluster/node-commands.js';
import type { ServiceContext } from '../context.js';
import type { LiveRecordings } from '../recordings/live-recordings.js';
import type { CallEngine } from './call-engine.js';

export interface CallServiceContext extends ServiceContext {
  calls: CallEngine;
  commands: NodeCommands;
  /** This node's live recordings. */
  recordings: LiveRecordings;
}

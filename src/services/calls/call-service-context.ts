/** The context of the services that place, change and end calls: the common one plus the engine. */
import type { ServiceContext } from '../context.js';
import type { CallEngine } from './call-engine.js';

export interface CallServiceContext extends ServiceContext {
  calls: CallEngine;
}

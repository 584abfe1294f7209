/**
 * The context of the recording services: the call services' (the engine, node commands, this
 * node's live recordings), and where recordings are kept.
 */
import type { RecordingStorage } from '../../domain/recording-ports.js';
import type { CallServiceContext } from '../calls/call-service-context.js';

export interface RecordingServiceContext extends CallServiceContext {
  recordingStorage: RecordingStorage;
}

/**
 * Rows <-> records for recordings, field by field like row-mapping.ts. The status callback is
 * three nullable columns (URL, method, space-separated events), all null when there is none.
 */
import type { Recording, RecordingCallbackEvent } from '../domain/recording.js';
import type { Insertable } from './row-mapping.js';
import type { RecordingRow, RecordingsTable } from './schema.js';

export function recordingToRow(r: Recording): Insertable<RecordingsTable> {
  return {
    sid: r.sid,
    account_sid: r.accountSid,
    call_sid: r.callSid,
    conference_sid: r.conferenceSid,
    status: r.status,
    source: r.source,
    channels: r.channels,
    track: r.track,
    trim: r.trim ? 1 : 0,
    pause_behavior: r.pauseBehavior,
    start_time: r.startTime,
    duration: r.duration,
    error_code: r.errorCode,
    status_callback: r.statusCallback?.url ?? null,
    status_callback_method: r.statusCallback?.method ?? null,
    status_callback_events: r.statusCallback?.events.join(' ') ?? null,
    node_id: r.nodeId,
    date_created: r.dateCreated,
    date_updated: r.dateUpdated,
  };
}

export function rowToRecording(r: RecordingRow): Recording {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    callSid: r.call_sid,
    conferenceSid: r.conference_sid,
    status: r.status,
    source: r.source,
    channels: r.channels === 2 ? 2 : 1,
    track: r.track,
    trim: r.trim === 1,
    pauseBehavior: r.pause_behavior,
    startTime: r.start_time,
    duration: r.duration,
    errorCode: r.error_code,
    statusCallback:
      r.status_callback === null
        ? null
        : {
            url: r.status_callback,
            method: r.status_callback_method ?? 'POST',
            events: r.status_callback_events ? (r.status_callback_events.split(' ') as RecordingCallbackEvent[]) : [],
          },
    nodeId: r.node_id,
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

/** The interop harness: network namespace, baresip and sipp runners, WAV and tone checks. */
export { Baresip, startBaresip, type BaresipEvent, type BaresipMessage, type BaresipOptions, type WaitOptions } from './baresip.js';
export { createNetns, type Netns } from './netns.js';
export { OPTIONS_SCENARIO, runSipp, type SippOptions, type SippResult } from './sipp.js';
export { findTool, requireTools, run, runOk, TOOL_PACKAGES, type RunResult, type ToolName } from './tools.js';
export { frameLevels, meanLevel, parseWav, readWav, toneLevel, writeSpeechWav, writeToneWav, type ToneLevel, type ToneOptions, type Wav } from './wav.js';
export { NUMBER, ROOM_TWIML, startConclave, type Conclave } from './conclave.js';
export { CANCEL_UAC_SCENARIO, DIGEST_UAS_SCENARIO, screenCounts, waitListening } from './scenarios.js';

/** The interop harness: network namespace, baresip and sipp runners, WAV and tone checks. */
export { Baresip, startBaresip, type BaresipEvent, type BaresipMessage, type BaresipOptions, type WaitOptions } from './baresip.js';
export { createNetns, type Netns } from './netns.js';
export { OPTIONS_SCENARIO, runSipp, type SippOptions, type SippResult } from './sipp.js';
export { findTool, requireTools, run, runOk, TOOL_PACKAGES, type RunResult, type ToolName } from './tools.js';
export { parseWav, readWav, toneLevel, writeSpeechWav, writeToneWav, type ToneLevel, type ToneOptions, type Wav } from './wav.js';

/** Resource paths of the 2010-04-01 API, relative to the host, without representation suffix. */
export const API_ROOT = '/2010-04-01';

export const accountPath = (accountSid: string): string => `${API_ROOT}/Accounts/${accountSid}`;
export const conferencePath = (accountSid: string, conferenceSid: string): string => `${accountPath(accountSid)}/Conferences/${conferenceSid}`;
export const participantPath = (accountSid: string, conferenceSid: string, callSid: string): string =>
  `${conferencePath(accountSid, conferenceSid)}/Participants/${callSid}`;

/** Paths of the 2010-04-01 API for tests. */
export const accountsPath = '/2010-04-01/Accounts';
export const conferencesPath = (ac: string): string => `${accountsPath}/${ac}/Conferences`;
export const conferencePath = (ac: string, cf: string): string => `${conferencesPath(ac)}/${cf}`;
export const participantsPath = (ac: string, cf: string): string => `${conferencePath(ac, cf)}/Participants`;
export const participantPath = (ac: string, cf: string, ca: string): string => `${participantsPath(ac, cf)}/${ca}`;

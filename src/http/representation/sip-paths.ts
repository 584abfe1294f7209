/** Resource paths of the SIP resources (issue 14), without representation suffix. */
import { accountPath } from './uris.js';

export const sipPath = (accountSid: string): string => `${accountPath(accountSid)}/SIP`;
export const sipDomainPath = (accountSid: string, sid: string): string => `${sipPath(accountSid)}/Domains/${sid}`;
export const sipCredentialListPath = (accountSid: string, sid: string): string => `${sipPath(accountSid)}/CredentialLists/${sid}`;
export const sipIpAccessControlListPath = (accountSid: string, sid: string): string => `${sipPath(accountSid)}/IpAccessControlLists/${sid}`;

/**
 * IP access control lists (named-lists.ts) and their addresses (twilio-oai *SipIpAccessControlList,
 * *SipIpAddress): the sources a domain mapped to the list takes calls from.
 */
import { isIP } from 'node:net';
import type { PageRequest, PageResult } from '../../domain/paging.js';
import { newSid } from '../../domain/sids.js';
import type { SipIpAddress } from '../../domain/sip-ip-access.js';
import { ResourceNotFound } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import { sipNamedLists } from './named-lists.js';
import { cidrBlock } from './sip-rules.js';

export const sipIpAccessControlLists = sipNamedLists({
  prefix: 'AL',
  what: 'SIP IpAccessControlList',
  insert: (store, list) => store.insertSipIpAccessControlList(list),
  find: (store, accountSid, sid) => store.findSipIpAccessControlList(accountSid, sid),
  update: (store, list) => store.updateSipIpAccessControlList(list),
  remove: (store, sid) => store.deleteSipIpAccessControlList(sid),
  list: (store, accountSid, page) => store.listSipIpAccessControlLists(accountSid, page),
});

export interface SipIpAddressSettings {
  friendlyName?: string;
  ipAddress?: string;
  /** As sent: validated against the address's family. */
  cidrPrefixLength?: string;
}

export async function createSipIpAddress(
  ctx: ServiceContext,
  accountSid: string,
  listSid: string,
  spec: { friendlyName: string; ipAddress: string; cidrPrefixLength?: string },
): Promise<SipIpAddress> {
  await sipIpAccessControlLists.get(ctx, accountSid, listSid);
  const block = cidrBlock(spec.ipAddress, spec.cidrPrefixLength);
  const now = ctx.clock.now();
  const address: SipIpAddress = { sid: newSid('IP'), accountSid, ipAccessControlListSid: listSid, friendlyName: spec.friendlyName, ...block, dateCreated: now, dateUpdated: now };
  await ctx.store.insertSipIpAddress(address);
  return address;
}

export async function getSipIpAddress(ctx: ServiceContext, accountSid: string, listSid: string, sid: string): Promise<SipIpAddress> {
  await sipIpAccessControlLists.get(ctx, accountSid, listSid);
  const address = await ctx.store.findSipIpAddress(listSid, sid);
  if (!address) throw new ResourceNotFound(`SIP IpAddress ${sid}`);
  return address;
}

/**
 * Changes the given settings. A new address without a prefix length keeps the old length when
 * it is of the same family (an IPv4 /24 stays /24), else takes the whole address.
 */
export async function updateSipIpAddress(
  ctx: ServiceContext,
  accountSid: string,
  listSid: string,
  sid: string,
  change: SipIpAddressSettings,
): Promise<SipIpAddress> {
  const address = await getSipIpAddress(ctx, accountSid, listSid, sid);
  if (change.friendlyName === undefined && change.ipAddress === undefined && change.cidrPrefixLength === undefined) return address;
  const ipAddress = change.ipAddress ?? address.ipAddress;
  const keepPrefix = !change.cidrPrefixLength && isIP(ipAddress) === isIP(address.ipAddress);
  const block = cidrBlock(ipAddress, keepPrefix ? String(address.cidrPrefixLength) : change.cidrPrefixLength);
  const next: SipIpAddress = { ...address, friendlyName: change.friendlyName ?? address.friendlyName, ...block, dateUpdated: ctx.clock.now() };
  await ctx.store.updateSipIpAddress(next);
  return next;
}

export async function deleteSipIpAddress(ctx: ServiceContext, accountSid: string, listSid: string, sid: string): Promise<void> {
  await getSipIpAddress(ctx, accountSid, listSid, sid);
  await ctx.store.deleteSipIpAddress(sid);
}

export async function listSipIpAddresses(ctx: ServiceContext, accountSid: string, listSid: string, page: PageRequest): Promise<PageResult<SipIpAddress>> {
  await sipIpAccessControlLists.get(ctx, accountSid, listSid);
  return ctx.store.listSipIpAddresses(listSid, page);
}

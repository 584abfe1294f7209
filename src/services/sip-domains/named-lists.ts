/**
 * What credential lists and IP access control lists share: a friendly name in an account, and
 * create, fetch, rename, delete (its entries and mappings going with it) and list, oldest first.
 * Each kind gives its SID prefix and its store methods.
 */
import type { PageRequest, PageResult } from '../../domain/paging.js';
import type { Store } from '../../domain/ports.js';
import { newSid } from '../../domain/sids.js';
import type { SipCredentialList } from '../../domain/sip-credential.js';
import { ResourceNotFound } from '../../errors.js';
import type { ServiceContext } from '../context.js';

/** Both kinds of list have these fields only (SipCredentialList, SipIpAccessControlList). */
export type SipNamedList = SipCredentialList;

export interface SipNamedListKind {
  prefix: 'CL' | 'AL';
  /** How a missing one is named: `SIP CredentialList`. */
  what: string;
  insert(store: Store, list: SipNamedList): Promise<void>;
  find(store: Store, accountSid: string, sid: string): Promise<SipNamedList | undefined>;
  update(store: Store, list: SipNamedList): Promise<void>;
  remove(store: Store, sid: string): Promise<boolean>;
  list(store: Store, accountSid: string, page: PageRequest): Promise<PageResult<SipNamedList>>;
}

export interface SipNamedLists {
  create(ctx: ServiceContext, accountSid: string, friendlyName: string): Promise<SipNamedList>;
  get(ctx: ServiceContext, accountSid: string, sid: string): Promise<SipNamedList>;
  rename(ctx: ServiceContext, accountSid: string, sid: string, friendlyName: string): Promise<SipNamedList>;
  remove(ctx: ServiceContext, accountSid: string, sid: string): Promise<void>;
  list(ctx: ServiceContext, accountSid: string, page: PageRequest): Promise<PageResult<SipNamedList>>;
}

export function sipNamedLists(kind: SipNamedListKind): SipNamedLists {
  const get = async (ctx: ServiceContext, accountSid: string, sid: string): Promise<SipNamedList> => {
    const list = await kind.find(ctx.store, accountSid, sid);
    if (!list) throw new ResourceNotFound(`${kind.what} ${sid}`);
    return list;
  };
  return {
    async create(ctx, accountSid, friendlyName) {
      const now = ctx.clock.now();
      const list: SipNamedList = { sid: newSid(kind.prefix), accountSid, friendlyName, dateCreated: now, dateUpdated: now };
      await kind.insert(ctx.store, list);
      return list;
    },
    get,
    async rename(ctx, accountSid, sid, friendlyName) {
      const next = { ...(await get(ctx, accountSid, sid)), friendlyName, dateUpdated: ctx.clock.now() };
      await kind.update(ctx.store, next);
      return next;
    },
    async remove(ctx, accountSid, sid) {
      await get(ctx, accountSid, sid);
      await kind.remove(ctx.store, sid);
    },
    list: (ctx, accountSid, page) => kind.list(ctx.store, accountSid, page),
  };
}

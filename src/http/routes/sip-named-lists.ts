/**
 * The routes credential lists and IP access control lists share (twilio-oai
 * Create/List/Fetch/Update/Delete SipCredentialList and SipIpAccessControlList): a required
 * `FriendlyName` of a bounded length, renamed by POST to the instance.
 */
import type { FastifyInstance } from 'fastify';
import { missingParameter } from '../../errors.js';
import type { ServiceContext } from '../../services/context.js';
import type { SipNamedList, SipNamedLists } from '../../services/sip-domains/named-lists.js';
import { boundedText, text, type Params } from '../form-params.js';
import { parsePaging } from '../representation/list-page.js';
import type { ResourceShape } from '../representation/resource-shape.js';
import { sipPath } from '../representation/sip-paths.js';
import { accountOf, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

/** A required, non-empty parameter (at most `max` characters when given). */
export function required(form: Params, name: string, max?: number): string {
  const value = max === undefined ? text(form, name) : boundedText(form, name, max);
  if (!value) throw missingParameter(name);
  return value;
}

export interface SipNamedListRoutes {
  /** Below `/SIP`: `CredentialLists` or `IpAccessControlLists`. */
  collection: string;
  shape: ResourceShape<SipNamedList>;
  service: SipNamedLists;
  /** Twilio's limit on the friendly name. */
  nameMax: number;
}

/** Registers the collection and `…/:ListSid`; entries are routed below `…/:ListSid/` by the caller. */
export function registerSipNamedListRoutes(app: FastifyInstance, ctx: ServiceContext, r: SipNamedListRoutes): void {
  const path = `/2010-04-01/Accounts/:AccountSid/SIP/${r.collection}`;
  resource(app, path, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const list = parsePaging(queryOf(request));
      sendList(reply, request, r.shape, `${sipPath(account.sid)}/${r.collection}`, [], list, await r.service.list(ctx, account.sid, list.page));
    },
    POST: async (request, reply) => {
      const list = await r.service.create(ctx, accountOf(request).sid, required(formOf(request), 'FriendlyName', r.nameMax));
      sendInstance(reply, request, r.shape, list, 201);
    },
  });

  resource(app, `${path}/:ListSid`, {
    GET: async (request, reply) => {
      sendInstance(reply, request, r.shape, await r.service.get(ctx, accountOf(request).sid, paramsOf(request).ListSid!));
    },
    POST: async (request, reply) => {
      const name = required(formOf(request), 'FriendlyName', r.nameMax);
      sendInstance(reply, request, r.shape, await r.service.rename(ctx, accountOf(request).sid, paramsOf(request).ListSid!, name));
    },
    DELETE: async (request, reply) => {
      await r.service.remove(ctx, accountOf(request).sid, paramsOf(request).ListSid!);
      void reply.code(204).send();
    },
  });
}

/**
 * IP access control lists and their addresses (twilio-oai Create/List/Fetch/Update/Delete
 * SipIpAccessControlList and SipIpAddress). `IpAddress` is IPv4 (as on Twilio) or IPv6, with
 * an optional `CidrPrefixLength`.
 */
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import {
  createSipIpAddress,
  deleteSipIpAddress,
  getSipIpAddress,
  listSipIpAddresses,
  sipIpAccessControlLists,
  updateSipIpAddress,
} from '../../services/sip-domains/ip-access-control-lists.js';
import { boundedText, text } from '../form-params.js';
import { parsePaging } from '../representation/list-page.js';
import { sipIpAccessControlListShape, sipIpAddressShape } from '../representation/sip-ip-access-control-list-shape.js';
import { sipIpAccessControlListPath } from '../representation/sip-paths.js';
import { accountOf, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';
import { registerSipNamedListRoutes, required } from './sip-named-lists.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/SIP/IpAccessControlLists';
/** Twilio: friendly names of IP lists and addresses are up to 255 characters. */
const NAME_MAX = 255;

export function registerSipIpAccessControlListRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  registerSipNamedListRoutes(app, ctx, { collection: 'IpAccessControlLists', shape: sipIpAccessControlListShape, service: sipIpAccessControlLists, nameMax: NAME_MAX });

  resource(app, `${LIST}/:ListSid/IpAddresses`, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const listSid = paramsOf(request).ListSid!;
      const list = parsePaging(queryOf(request));
      const page = await listSipIpAddresses(ctx, account.sid, listSid, list.page);
      sendList(reply, request, sipIpAddressShape, `${sipIpAccessControlListPath(account.sid, listSid)}/IpAddresses`, [], list, page);
    },
    POST: async (request, reply) => {
      const form = formOf(request);
      const address = await createSipIpAddress(ctx, accountOf(request).sid, paramsOf(request).ListSid!, {
        friendlyName: required(form, 'FriendlyName', NAME_MAX),
        ipAddress: required(form, 'IpAddress'),
        cidrPrefixLength: text(form, 'CidrPrefixLength'),
      });
      sendInstance(reply, request, sipIpAddressShape, address, 201);
    },
  });

  resource(app, `${LIST}/:ListSid/IpAddresses/:Sid`, {
    GET: async (request, reply) => {
      const { ListSid, Sid } = paramsOf(request);
      sendInstance(reply, request, sipIpAddressShape, await getSipIpAddress(ctx, accountOf(request).sid, ListSid!, Sid!));
    },
    POST: async (request, reply) => {
      const { ListSid, Sid } = paramsOf(request);
      const form = formOf(request);
      const address = await updateSipIpAddress(ctx, accountOf(request).sid, ListSid!, Sid!, {
        friendlyName: boundedText(form, 'FriendlyName', NAME_MAX),
        ipAddress: text(form, 'IpAddress'),
        cidrPrefixLength: text(form, 'CidrPrefixLength'),
      });
      sendInstance(reply, request, sipIpAddressShape, address);
    },
    DELETE: async (request, reply) => {
      const { ListSid, Sid } = paramsOf(request);
      await deleteSipIpAddress(ctx, accountOf(request).sid, ListSid!, Sid!);
      void reply.code(204).send();
    },
  });
}

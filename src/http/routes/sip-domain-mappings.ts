/**
 * The lists mapped to a SIP domain, five collections below `/SIP/Domains/{DomainSid}`:
 * `Auth/Calls/CredentialListMappings`, `Auth/Calls/IpAccessControlListMappings`,
 * `Auth/Registrations/CredentialListMappings` (twilio-oai *SipAuth…Mapping), and the legacy
 * `CredentialListMappings` and `IpAccessControlListMappings` (*SipCredentialListMapping,
 * *SipIpAccessControlListMapping), which are the call mappings seen the older way: a list
 * mapped through one shows in the other. Each has create, list, fetch and delete.
 */
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import { createSipMapping, deleteSipMapping, getSipMapping, listSipMappings, type SipMappingKind } from '../../services/sip-domains/mappings.js';
import { sid } from '../form-params.js';
import { parsePaging } from '../representation/list-page.js';
import type { ResourceShape } from '../representation/resource-shape.js';
import { authMappingShape, legacyMappingShape } from '../representation/sip-mapping-shape.js';
import { sipDomainPath } from '../representation/sip-paths.js';
import type { SipListMapping } from '../../domain/sip-domain.js';
import { accountOf, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';
import { required } from './sip-named-lists.js';

const DOMAIN = '/2010-04-01/Accounts/:AccountSid/SIP/Domains/:DomainSid';

interface MappingCollection {
  /** Below the domain. */
  path: string;
  kind: SipMappingKind;
  /** The form parameter naming the list to map. */
  listParameter: 'CredentialListSid' | 'IpAccessControlListSid';
  prefix: 'CL' | 'AL';
  shape: ResourceShape<SipListMapping>;
}

const COLLECTIONS: readonly MappingCollection[] = [
  {
    path: 'Auth/Calls/CredentialListMappings',
    kind: 'calls',
    listParameter: 'CredentialListSid',
    prefix: 'CL',
    shape: authMappingShape('CredentialListMapping'),
  },
  {
    path: 'Auth/Registrations/CredentialListMappings',
    kind: 'registrations',
    listParameter: 'CredentialListSid',
    prefix: 'CL',
    shape: authMappingShape('CredentialListMapping'),
  },
  {
    path: 'Auth/Calls/IpAccessControlListMappings',
    kind: 'ip-access-control-lists',
    listParameter: 'IpAccessControlListSid',
    prefix: 'AL',
    shape: authMappingShape('IpAccessControlListMapping'),
  },
  {
    path: 'CredentialListMappings',
    kind: 'calls',
    listParameter: 'CredentialListSid',
    prefix: 'CL',
    shape: legacyMappingShape('CredentialListMapping', 'CredentialListMappings'),
  },
  {
    path: 'IpAccessControlListMappings',
    kind: 'ip-access-control-lists',
    listParameter: 'IpAccessControlListSid',
    prefix: 'AL',
    shape: legacyMappingShape('IpAccessControlListMapping', 'IpAccessControlListMappings'),
  },
];

function registerCollection(app: FastifyInstance, ctx: ServiceContext, c: MappingCollection): void {
  resource(app, `${DOMAIN}/${c.path}`, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const domainSid = paramsOf(request).DomainSid!;
      const list = parsePaging(queryOf(request));
      const page = await listSipMappings(ctx, account.sid, domainSid, c.kind, list.page);
      sendList(reply, request, c.shape, `${sipDomainPath(account.sid, domainSid)}/${c.path}`, [], list, page);
    },
    POST: async (request, reply) => {
      const form = formOf(request);
      required(form, c.listParameter);
      const listSid = sid(form, c.listParameter, c.prefix)!;
      const mapping = await createSipMapping(ctx, accountOf(request).sid, paramsOf(request).DomainSid!, c.kind, listSid);
      sendInstance(reply, request, c.shape, mapping, 201);
    },
  });

  resource(app, `${DOMAIN}/${c.path}/:Sid`, {
    GET: async (request, reply) => {
      const { DomainSid, Sid } = paramsOf(request);
      sendInstance(reply, request, c.shape, await getSipMapping(ctx, accountOf(request).sid, DomainSid!, c.kind, Sid!));
    },
    DELETE: async (request, reply) => {
      const { DomainSid, Sid } = paramsOf(request);
      await deleteSipMapping(ctx, accountOf(request).sid, DomainSid!, c.kind, Sid!);
      void reply.code(204).send();
    },
  });
}

export function registerSipDomainMappingRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  for (const collection of COLLECTIONS) registerCollection(app, ctx, collection);
}

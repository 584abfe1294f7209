/**
 * Credential lists and their credentials (twilio-oai Create/List/Fetch/Update/Delete
 * SipCredentialList and SipCredential). A credential's `Password` is write-only: it is checked
 * against Twilio's rule, turned into digest hashes and never answered back.
 */
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/context.js';
import {
  changeSipCredentialPassword,
  createSipCredential,
  deleteSipCredential,
  getSipCredential,
  listSipCredentials,
  sipCredentialLists,
} from '../../services/sip-domains/credential-lists.js';
import { text } from '../form-params.js';
import { parsePaging } from '../representation/list-page.js';
import { sipCredentialListShape, sipCredentialShape } from '../representation/sip-credential-list-shape.js';
import { sipCredentialListPath } from '../representation/sip-paths.js';
import { accountOf, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';
import { registerSipNamedListRoutes, required } from './sip-named-lists.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/SIP/CredentialLists';
/** Twilio: a credential list's friendly name is up to 64 characters. */
const NAME_MAX = 64;

export function registerSipCredentialListRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  registerSipNamedListRoutes(app, ctx, { collection: 'CredentialLists', shape: sipCredentialListShape, service: sipCredentialLists, nameMax: NAME_MAX });

  resource(app, `${LIST}/:ListSid/Credentials`, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const listSid = paramsOf(request).ListSid!;
      const list = parsePaging(queryOf(request));
      const page = await listSipCredentials(ctx, account.sid, listSid, list.page);
      sendList(reply, request, sipCredentialShape, `${sipCredentialListPath(account.sid, listSid)}/Credentials`, [], list, page);
    },
    POST: async (request, reply) => {
      const form = formOf(request);
      const username = required(form, 'Username');
      const password = required(form, 'Password');
      const credential = await createSipCredential(ctx, accountOf(request).sid, paramsOf(request).ListSid!, username, password);
      sendInstance(reply, request, sipCredentialShape, credential, 201);
    },
  });

  resource(app, `${LIST}/:ListSid/Credentials/:Sid`, {
    GET: async (request, reply) => {
      const { ListSid, Sid } = paramsOf(request);
      sendInstance(reply, request, sipCredentialShape, await getSipCredential(ctx, accountOf(request).sid, ListSid!, Sid!));
    },
    POST: async (request, reply) => {
      const { ListSid, Sid } = paramsOf(request);
      const credential = await changeSipCredentialPassword(ctx, accountOf(request).sid, ListSid!, Sid!, text(formOf(request), 'Password'));
      sendInstance(reply, request, sipCredentialShape, credential);
    },
    DELETE: async (request, reply) => {
      const { ListSid, Sid } = paramsOf(request);
      await deleteSipCredential(ctx, accountOf(request).sid, ListSid!, Sid!);
      void reply.code(204).send();
    },
  });
}

/**
 * API keys (twilio-oai CreateNewKey, ListKey, FetchKey, UpdateKey, DeleteKey). Keys are managed
 * with the account's own credentials (AccountSid and AuthToken), not with another API key: a
 * leaked key must not be able to mint more keys.
 */
import type { FastifyInstance } from 'fastify';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, renameApiKey } from '../../services/api-keys.js';
import type { ServiceContext } from '../../services/context.js';
import { boundedText } from '../form-params.js';
import { keyShape, newKeyShape } from '../representation/account-shape.js';
import { parsePaging } from '../representation/list-page.js';
import { accountPath } from '../representation/uris.js';
import { accountOf, formOf, paramsOf, queryOf, requireAuthToken, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/Keys';
const NAME_MAX = 64;

export function registerKeyRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  resource(app, LIST, {
    GET: async (request, reply) => {
      requireAuthToken(request, 'API keys');
      const account = accountOf(request);
      const list = parsePaging(queryOf(request));
      const result = await listApiKeys(ctx, account.sid, list.page);
      sendList(reply, request, keyShape, `${accountPath(account.sid)}/Keys`, [], list, result);
    },
    POST: async (request, reply) => {
      requireAuthToken(request, 'API keys');
      const { key, secret } = await createApiKey(ctx, accountOf(request).sid, boundedText(formOf(request), 'FriendlyName', NAME_MAX));
      sendInstance(reply, request, newKeyShape(secret), key, 201);
    },
  });

  resource(app, `${LIST}/:KeySid`, {
    GET: async (request, reply) => {
      requireAuthToken(request, 'API keys');
      sendInstance(reply, request, keyShape, await getApiKey(ctx, accountOf(request).sid, paramsOf(request).KeySid!));
    },
    POST: async (request, reply) => {
      requireAuthToken(request, 'API keys');
      const name = boundedText(formOf(request), 'FriendlyName', NAME_MAX);
      const key = name === undefined
        ? await getApiKey(ctx, accountOf(request).sid, paramsOf(request).KeySid!)
        : await renameApiKey(ctx, accountOf(request).sid, paramsOf(request).KeySid!, name);
      sendInstance(reply, request, keyShape, key);
    },
    DELETE: async (request, reply) => {
      requireAuthToken(request, 'API keys');
      await deleteApiKey(ctx, accountOf(request).sid, paramsOf(request).KeySid!);
      void reply.code(204).send();
    },
  });
}

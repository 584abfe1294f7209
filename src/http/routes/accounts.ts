/**
 * Accounts and subaccounts (twilio-oai CreateAccount, ListAccount, FetchAccount, UpdateAccount).
 * The list shows the caller's own account and, for an owner, its subaccounts. As with Twilio's
 * standard API keys, an API key does not reach the Accounts resource: an account shows its
 * AuthToken, and a leaked key must not lead to it.
 */
import type { FastifyInstance } from 'fastify';
import type { AccountStatus } from '../../domain/model.js';
import { FRIENDLY_NAME_MAX, createSubaccount, listAccounts, updateAccount } from '../../services/accounts.js';
import type { ServiceContext } from '../../services/context.js';
import { boundedText, oneOf } from '../form-params.js';
import { accountShape } from '../representation/account-shape.js';
import { parsePaging } from '../representation/list-page.js';
import { API_ROOT } from '../representation/uris.js';
import { accountOf, echoFilters, formOf, principalOf, queryOf, requireAuthToken, resource, sendInstance, sendList } from './resource.js';

const STATUSES: readonly AccountStatus[] = ['active', 'suspended', 'closed'];

export function registerAccountRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  resource(app, `${API_ROOT}/Accounts`, {
    GET: async (request, reply) => {
      requireAuthToken(request, 'Accounts');
      const query = queryOf(request);
      const list = parsePaging(query);
      const filter = { friendlyName: boundedText(query, 'FriendlyName', FRIENDLY_NAME_MAX), status: oneOf(query, 'Status', STATUSES) };
      const result = await listAccounts(ctx, principalOf(request), filter, list.page);
      sendList(reply, request, accountShape, `${API_ROOT}/Accounts`, echoFilters(query, ['FriendlyName', 'Status']), list, result);
    },
    POST: async (request, reply) => {
      requireAuthToken(request, 'Accounts');
      const account = await createSubaccount(ctx, principalOf(request), boundedText(formOf(request), 'FriendlyName', FRIENDLY_NAME_MAX));
      sendInstance(reply, request, accountShape, account, 201);
    },
  });

  resource(app, `${API_ROOT}/Accounts/:AccountSid`, {
    GET: async (request, reply) => {
      requireAuthToken(request, 'Accounts');
      sendInstance(reply, request, accountShape, accountOf(request));
    },
    POST: async (request, reply) => {
      requireAuthToken(request, 'Accounts');
      const form = formOf(request);
      const change = { friendlyName: boundedText(form, 'FriendlyName', FRIENDLY_NAME_MAX), status: oneOf(form, 'Status', STATUSES) };
      const account = await updateAccount(ctx, principalOf(request), accountOf(request), change);
      sendInstance(reply, request, accountShape, account);
    },
  });
}

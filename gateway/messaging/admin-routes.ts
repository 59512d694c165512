/**
 * The admin API's messaging endpoints (all need the bearer token):
 *
 *   GET    /api/groups                         200 {groups: [GroupView]}
 *   POST   /api/groups {name, confidential?}   201 {group}; 400 name; 409 exists / a user's name
 *   GET    /api/groups/NAME                    200 {group}; 404
 *   DELETE /api/groups/NAME                    204; 404
 *   POST   /api/groups/NAME/members {user}     200 {group}; 404 group or user; 409 group full
 *   DELETE /api/groups/NAME/members/USER       200 {group}; 404
 *   POST   /api/groups/NAME/policy {confidential}        200 {group}
 *   POST   /api/users/NAME/messaging {confidential}      200 {user, confidential}; 404
 */
import { HttpError, httpErrorFor } from '../admin/http/errors';
import { onlyFields, readJsonObject, requiredString, sendEmpty, sendJson, type JsonObject } from '../admin/http/json';
import type { Route, RouteContext } from '../admin/http/routes';
import type { Actor } from '../admin/http/actions';
import type { MessagingAdmin } from './admin';
import { GroupExistsError, GroupFullError, GroupNameTakenError, InvalidGroupNameError, UnknownGroupError } from './errors';
import type { Group } from './groups';

export interface GroupView {
  readonly name: string;
  readonly uri: string;
  readonly confidential: boolean;
  readonly createdAt: string;
  readonly members: readonly string[];
}

export function groupView(g: Group, aorOf: (name: string) => string): GroupView {
  return { name: g.name, uri: aorOf(g.name), confidential: g.confidential, createdAt: new Date(g.createdAt).toISOString(), members: g.members };
}

/** The HttpError for a messaging administration error (then the account errors' mapping). */
export function messagingHttpError(err: unknown): HttpError | undefined {
  if (err instanceof InvalidGroupNameError) return new HttpError(400, err.message, { field: 'name' });
  if (err instanceof GroupExistsError || err instanceof GroupNameTakenError) return new HttpError(409, err.message, { field: 'name' });
  if (err instanceof UnknownGroupError) return new HttpError(404, err.message);
  if (err instanceof GroupFullError) return new HttpError(409, err.message, { field: 'user' });
  return httpErrorFor(err, 'password');
}

function requiredBoolean(body: JsonObject, field: string): boolean {
  const v = body[field];
  if (typeof v !== 'boolean') throw new HttpError(400, `${field}: must be true or false`, { field });
  return v;
}

export function messagingRoutes(admin: MessagingAdmin): Route[] {
  const by = (ctx: RouteContext): Actor => {
    if (ctx.by === undefined) throw new Error('route needs an authenticated actor');
    return ctx.by;
  };
  const api = (method: Route['method'], path: string, handle: (ctx: RouteContext) => Promise<void>): Route => ({
    method, path, auth: 'admin',
    async handle(ctx) {
      try {
        await handle(ctx);
      } catch (err) {
        throw messagingHttpError(err) ?? err;
      }
    },
  });
  const view = (g: Group): GroupView => groupView(g, (n) => admin.aorOf(n));

  return [
    api('GET', '/api/groups', async (ctx) => {
      sendJson(ctx.res, 200, { groups: (await admin.listGroups(by(ctx))).map(view) });
    }),
    api('POST', '/api/groups', async (ctx) => {
      const body = await readJsonObject(ctx.req);
      onlyFields(body, ['name', 'confidential']);
      const name = requiredString(body, 'name', 64);
      const confidential = body.confidential === undefined ? false : requiredBoolean(body, 'confidential');
      const g = await admin.addGroup(by(ctx), name, confidential);
      sendJson(ctx.res, 201, { group: view(g) }, { location: `/api/groups/${encodeURIComponent(g.name)}` });
    }),
    api('GET', '/api/groups/:name', async (ctx) => {
      sendJson(ctx.res, 200, { group: view(await admin.showGroup(by(ctx), ctx.params.name!)) });
    }),
    api('DELETE', '/api/groups/:name', async (ctx) => {
      await admin.removeGroup(by(ctx), ctx.params.name!);
      sendEmpty(ctx.res, 204);
    }),
    api('POST', '/api/groups/:name/members', async (ctx) => {
      const body = await readJsonObject(ctx.req);
      onlyFields(body, ['user']);
      const user = requiredString(body, 'user', 64);
      sendJson(ctx.res, 200, { group: view(await admin.addMember(by(ctx), ctx.params.name!, user)) });
    }),
    api('DELETE', '/api/groups/:name/members/:user', async (ctx) => {
      sendJson(ctx.res, 200, { group: view(await admin.removeMember(by(ctx), ctx.params.name!, ctx.params.user!)) });
    }),
    api('POST', '/api/groups/:name/policy', async (ctx) => {
      const body = await readJsonObject(ctx.req);
      onlyFields(body, ['confidential']);
      const g = await admin.setGroupConfidential(by(ctx), ctx.params.name!, requiredBoolean(body, 'confidential'));
      sendJson(ctx.res, 200, { group: view(g) });
    }),
    api('POST', '/api/users/:name/messaging', async (ctx) => {
      const body = await readJsonObject(ctx.req);
      onlyFields(body, ['confidential']);
      const confidential = await admin.setUserConfidential(by(ctx), ctx.params.name!, requiredBoolean(body, 'confidential'));
      sendJson(ctx.res, 200, { user: ctx.params.name!, confidential });
    }),
  ];
}

import { ImageError, q } from '../errors.js';
import type { Credentials } from './credentials.js';
import { errorText, type HttpContext, RETRY_STATUS, readBody, retryAfter } from './http.js';
import { type Attempt, Transient } from './retry.js';

const MAX_TOKEN_BODY = 1 << 20;

/** The `Authorization` value of Basic credentials. */
const basicAuth = (c: Credentials) =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** The challenges of a `WWW-Authenticate` header, schemes and parameter names lower-cased. */
function parseChallenges(
  header: string | null,
): Array<{ scheme: string; params: Record<string, string> }> {
  if (!header) return [];
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  const re = /([A-Za-z]+)\s+((?:[A-Za-z_]+=(?:"[^"]*"|[^,\s]*)\s*,?\s*)*)/g;
  for (const m of header.matchAll(re)) {
    const params: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(/([A-Za-z_]+)=(?:"([^"]*)"|([^,\s]*))/g)) {
      params[(p[1] as string).toLowerCase()] = p[2] ?? p[3] ?? '';
    }
    out.push({ scheme: (m[1] as string).toLowerCase(), params });
  }
  return out;
}

/**
 * Answers a `WWW-Authenticate` challenge: a bearer token from the realm (anonymous or with
 * Basic credentials; never from a token server that is not https unless `noHttps`), or Basic.
 * Returns the Authorization value.
 */
export async function answerChallenge(
  http: HttpContext,
  header: string | null,
  scope: string,
  creds: Credentials | undefined,
  attempt: Attempt,
): Promise<string | undefined> {
  const challenges = parseChallenges(header);
  const bearer = challenges.find((c) => c.scheme === 'bearer');
  if (!bearer) {
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!creds) throw authRequired(http.name, false);
      return basicAuth(creds);
    }
    throw new ImageError(
      'ERR_IMAGE_AUTH',
      `${http.name} asks for authentication berth does not know (${q(header ?? 'no WWW-Authenticate header', 120)})`,
      {
        hint: 'only Bearer token and Basic authentication are supported',
      },
    );
  }
  const realm = bearer.params.realm;
  let realmUrl: URL;
  try {
    realmUrl = new URL(realm ?? '');
  } catch {
    throw new ImageError(
      'ERR_IMAGE_AUTH',
      `${http.name} gave an invalid token realm ${q(realm ?? '')}`,
      {
        hint: 'the registry is misconfigured',
      },
    );
  }
  if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && http.noHttps)) {
    throw new ImageError(
      'ERR_IMAGE_AUTH',
      `${http.name} sends berth to a token server that is not https (${q(realmUrl.href)})`,
      {
        hint: 'refused; use --no-https only for a registry you trust on a trusted network',
      },
    );
  }
  if (bearer.params.service) realmUrl.searchParams.set('service', bearer.params.service);
  realmUrl.searchParams.set('scope', bearer.params.scope || scope);
  const headers: Record<string, string> = { 'user-agent': 'berth', accept: 'application/json' };
  if (creds) headers.authorization = basicAuth(creds);
  let res: Response;
  try {
    res = await http.fetch(realmUrl, { headers, redirect: 'follow', signal: attempt.signal });
  } catch (cause) {
    if (http.signal?.aborted) throw cause;
    throw new Transient(`cannot reach the token server ${realmUrl.host}`, undefined, { cause });
  }
  attempt.touch();
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel().catch(() => {});
    throw authRequired(http.name, creds !== undefined);
  }
  if (RETRY_STATUS.has(res.status)) {
    await res.body?.cancel().catch(() => {});
    throw new Transient(`the token server answered HTTP ${res.status}`, retryAfter(res));
  }
  if (res.status !== 200) {
    const detail = await errorText(res);
    throw new ImageError(
      'ERR_IMAGE_AUTH',
      `the token server of ${http.name} answered HTTP ${res.status}${detail ? ` (${detail})` : ''}`,
      {
        hint: 'check the credentials and the image name',
      },
    );
  }
  let token: unknown;
  try {
    const doc = JSON.parse(
      (await readBody(res, MAX_TOKEN_BODY, attempt)).toString('utf8'),
    ) as Record<string, unknown>;
    token = doc.token ?? doc.access_token;
  } catch (cause) {
    if (cause instanceof Transient) throw cause;
    token = undefined;
  }
  if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) {
    throw new ImageError('ERR_IMAGE_AUTH', `the token server of ${http.name} sent no valid token`, {
      hint: 'the registry is misconfigured',
    });
  }
  return `Bearer ${token}`;
}

/** ERR_IMAGE_AUTH for a 401: credentials missing, or refused. */
export function authRequired(name: string, withCreds: boolean): ImageError {
  return withCreds
    ? new ImageError('ERR_IMAGE_AUTH', `${name} refused the credentials`, {
        hint: 'check the user name and password (--docker-username/--docker-password, DOCKER_USERNAME/DOCKER_PASSWORD, or the auth file)',
      })
    : new ImageError('ERR_IMAGE_AUTH', `${name} requires authentication (or does not exist)`, {
        hint: 'give credentials with --authfile, --docker-username/--docker-password or DOCKER_USERNAME/DOCKER_PASSWORD; check the image name',
      });
}

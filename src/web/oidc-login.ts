/**
 * OIDC sign-in for the login page's buttons: authorization code with PKCE (RFC 7636, S256),
 * `state` and `nonce`, through openid-client; the authorization response's `iss` (RFC 9207) is
 * checked against the provider that started the flow. The ID token (and, when enabled, userinfo)
 * claims become a principal with the same claim mapping as bearer tokens
 * (src/identity/oidc-principal.ts), so one IdP yields the same roles and tenants either way.
 */
import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import type { Logger } from '../lib/logger.ts';
import { Secret } from '../lib/logger.ts';
import { compileMapping } from '../identity/oidc-principal.ts';
import type { BrowserOidcConfig } from './config.ts';
import type { Principal } from '../model/principal.ts';

/** What a pending login remembers between the redirect to the IdP and the callback. */
export interface OidcFlow {
  readonly provider: string;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly redirectUri: string;
}

export interface OidcLoginResult {
  readonly principal: Principal;
  /** Kept server-side for `id_token_hint` at logout. */
  readonly idToken?: string;
}

export interface OidcLogin {
  readonly id: string;
  readonly label: string;
  /** The authorization URL to send the browser to, and what the callback must check. */
  start(redirectUri: string): Promise<{ url: string; flow: OidcFlow }>;
  /** Completes the code flow for the callback's query string; throws on any failed check. */
  finish(flow: OidcFlow, callbackQuery: string): Promise<OidcLoginResult | undefined>;
  /** The IdP's logout URL, when it advertises `end_session_endpoint`. */
  endSessionUrl(idToken: string | undefined, postLogoutRedirectUri: string): Promise<string | undefined>;
}

/** A callback refused before the code exchange, with its reason id (`wrong-issuer`, `missing-iss`). */
export class OidcLoginRefused extends Error {
  readonly code: string;
  constructor(reason: 'wrong-issuer' | 'missing-iss') {
    super(`authorization response refused: ${reason}`);
    this.name = 'OidcLoginRefused';
    this.code = reason;
  }
}

export function oidcLogin(config: BrowserOidcConfig, log: Logger): OidcLogin {
  const secret =
    config.clientSecret !== undefined
      ? new Secret(config.clientSecret)
      : config.clientSecretFile !== undefined
        ? new Secret(readFileSync(config.clientSecretFile, 'utf8').replace(/\r?\n$/, ''))
        : undefined;
  const issuer = new URL(config.issuer);
  const insecure = issuer.protocol === 'http:';
  if (insecure) log.warn({ provider: config.id }, `!!! auth.browser.oidc ${config.id}: plain-http issuer ${config.issuer} — tests only !!!`);
  const toPrincipal = compileMapping({ id: config.id, claims: config.claims, serviceAccount: 'never', admin: config.admin, assertsLocalNames: config.assertsLocalNames });

  // Discovery once, shared; a failure is not remembered, so the next login retries.
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= oidc
      .discovery(
        issuer,
        config.clientId,
        secret ? { client_secret: secret.reveal() } : undefined,
        secret ? oidc.ClientSecretBasic(secret.reveal()) : oidc.None(),
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      });
    return discovered;
  };

  return {
    id: config.id,
    label: config.label,
    async start(redirectUri) {
      const c = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const flow: OidcFlow = { provider: config.id, state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, redirectUri };
      const url = oidc.buildAuthorizationUrl(c, {
        ...config.extraAuthParams,
        redirect_uri: redirectUri,
        scope: config.scopes.join(' '),
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: flow.state,
        nonce: flow.nonce,
      });
      return { url: url.href, flow };
    },
    async finish(flow, callbackQuery) {
      const c = await configuration();
      const current = new URL(flow.redirectUri);
      current.search = callbackQuery;
      // RFC 9207 §2.4, the mix-up defence: a response naming another issuer is refused, and so is
      // one without `iss` from an issuer that advertises it. openid-client refuses both as well;
      // checking first gives the refusal its own reason id for the audit event.
      const iss = current.searchParams.get('iss');
      if (iss !== null && iss !== c.serverMetadata().issuer) throw new OidcLoginRefused('wrong-issuer');
      if (iss === null && c.serverMetadata().authorization_response_iss_parameter_supported === true) throw new OidcLoginRefused('missing-iss');
      const tokens = await oidc.authorizationCodeGrant(c, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) return undefined;
      let claims: Record<string, unknown> = { ...idClaims };
      if (config.userinfo && c.serverMetadata().userinfo_endpoint) {
        try {
          claims = { ...claims, ...(await oidc.fetchUserInfo(c, tokens.access_token, idClaims.sub)) };
        } catch (err) {
          // Some IdPs issue access tokens for another audience only (resource indicators): the
          // ID token alone is then the source of claims.
          log.debug({ provider: config.id, err: (err as Error).name }, 'userinfo not used');
        }
      }
      const principal = toPrincipal(claims);
      if (!principal) return undefined;
      return { principal, ...(tokens.id_token !== undefined && { idToken: tokens.id_token }) };
    },
    async endSessionUrl(idToken, postLogoutRedirectUri) {
      if (!config.endSession) return undefined;
      const c = await configuration();
      if (!c.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(c, {
        ...(idToken !== undefined && { id_token_hint: idToken }),
        client_id: config.clientId,
        post_logout_redirect_uri: postLogoutRedirectUri,
      }).href;
    },
  };
}

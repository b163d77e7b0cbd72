/**
 * What the sign-in flows share: the pending and signed-in session data and what the login page lends the SAML flow.
 * Its own file so the login page (src/web/login.ts) and the SAML flow (src/web/saml-login.ts) import it without
 * importing each other.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatehouseError } from '../errors.ts';
import type { SamlSessionRef } from '../identity/saml.ts';
import type { Principal } from '../model/principal.ts';
import type { LoginRequest, SessionsService } from '../services/sessions.ts';
import type { OidcFlow } from './oidc-login.ts';

/** A SAML sign-in under way: the provider that started it, its request id and relay state. */
export interface SamlFlow {
  readonly provider: string;
  readonly requestId: string;
  readonly relayState: string;
}

export interface PendingData {
  readonly csrf: string;
  readonly next: string;
  readonly oidc?: OidcFlow;
  readonly saml?: SamlFlow;
}

export interface UserData {
  readonly csrf: string;
  readonly oidc?: string;
  readonly idToken?: string;
  /** A SAML session: what single logout needs. */
  readonly saml?: SamlSessionRef;
}

/** What the login page lends the SAML flow (src/web/saml-login.ts): one way to show the page, sign in and record a refusal. */
export interface LoginKit {
  /** The login page, answered with the refusal's registry status and message when there is one. */
  showLogin(req: FastifyRequest, reply: FastifyReply, next: string, refusal?: GatehouseError): Promise<FastifyReply>;
  signIn(req: FastifyRequest, reply: FastifyReply, principal: Principal, next: string, data: Omit<UserData, 'csrf'>, extraCookies: string[]): Promise<FastifyReply>;
  failed(req: FastifyRequest, reply: FastifyReply, username: string, provider: string | undefined, reason: string): Promise<void>;
  attempt(req: FastifyRequest, reply: FastifyReply): LoginRequest;
  secure(req: IncomingMessage): boolean;
  sessionCookie(req: IncomingMessage, id: string, maxAge?: number): string;
  signedOutByIdp: SessionsService['signedOutByIdp'];
}

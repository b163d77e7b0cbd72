/**
 * A browser played over HTTP for the gateway's OIDC login (`auth.browser.oidc`) against the real
 * OpenID provider of test/harness/oidc-idp.ts: cookies per origin, its development login and
 * consent forms filled in.
 */
import assert from 'node:assert/strict';

/** A browser's cookies, per origin (enough for the gateway and two IdPs on loopback ports). */
export class OidcBrowser {
  private readonly gateway: string;
  constructor(gateway: string) {
    this.gateway = gateway;
  }

  private readonly jar = new Map<string, Map<string, string>>();
  cookie(origin: string): string {
    return [...(this.jar.get(origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  private keep(origin: string, res: Response): void {
    const jar = this.jar.get(origin) ?? new Map<string, string>();
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
    this.jar.set(origin, jar);
  }
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: this.cookie(origin) } });
    this.keep(origin, res);
    return res;
  }

  /**
   * Presses the login button of provider `id` and signs in at its IdP as `login` (its
   * development login and consent forms); returns the IdP's redirect back to the gateway's
   * callback, not followed.
   */
  async authorizationResponse(id: string, login = 'alice'): Promise<URL> {
    let res = await this.fetch(`${this.gateway}/_gatehouse/oidc/start/${id}?next=/`);
    for (let step = 0; step < 20; step++) {
      if (res.status >= 300 && res.status < 400) {
        const to = new URL(res.headers.get('location')!, res.url);
        if (to.origin === this.gateway) return to;
        await res.arrayBuffer();
        res = await this.fetch(to.href);
        continue;
      }
      const html = await res.text();
      const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
      assert.ok(form, `an IdP page with a form (step ${step}, ${res.status}): ${html.slice(0, 300)}`);
      const fields = new URLSearchParams();
      for (const [input] of form[2]!.matchAll(/<input[^>]*>/gi)) {
        const name = /name="([^"]+)"/.exec(input)?.[1];
        if (name !== undefined) fields.set(name, /value="([^"]*)"/.exec(input)?.[1] ?? '');
      }
      if (fields.has('login')) fields.set('login', login);
      if (fields.has('password')) fields.set('password', 'any');
      const action = new URL(form[1]!.replaceAll('&amp;', '&'), res.url);
      res = await this.fetch(action.href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() });
    }
    assert.fail('the IdP never redirected back');
  }
  /** Brings an authorization response to the gateway's callback of provider `id`; the status and the session cookie, if one was set. */
  async callback(id: string, response: URL): Promise<{ status: number; session: string | undefined; page: string }> {
    const res = await this.fetch(`${this.gateway}/_gatehouse/oidc/callback/${id}${response.search}`);
    const page = await res.text();
    return { status: res.status, session: /gatehouse_session=([^;]+)/.exec(res.headers.getSetCookie().join('\n'))?.[1], page };
  }
}

/**
 * The login and logout pages: server-rendered HTML with inline CSS, one constant inline script
 * allowed by its hash, and no external assets (so a strict Content-Security-Policy holds). Every interpolated value is escaped.
 * Plain forms and links work with the keyboard alone; labels are bound to their inputs and the
 * error is announced (`role="alert"`).
 */

import { createHash } from 'node:crypto';

/**
 * Carries the deep link through sign-in: browsers never send `#…`, so the login page copies
 * `location.hash` into the form's `fragment` field and onto the IdP buttons' `next`; the server
 * validates it (src/web/next.ts).
 */
const FRAGMENT_SCRIPT = `(function(){var h=location.hash;if(h.length<2)return;var f=document.querySelector('input[name=fragment]');if(f)f.value=h;document.querySelectorAll('a[data-next]').forEach(function(a){var u=new URL(a.href);u.searchParams.set('next',(u.searchParams.get('next')||'/').split('#')[0]+h);a.href=u.pathname+u.search;});})();`;
const FRAGMENT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(FRAGMENT_SCRIPT).digest('base64')}'`;

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Only the fragment script, no framing, nothing from elsewhere; forms post only to this gateway. Chromium
 * applies `form-action` to the redirects that follow a submission too, so the logout form also
 * names the IdP whose end-session endpoint the logout redirects to.
 */
export function pageHeaders(formActionOrigins: readonly string[] = []): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; script-src ${FRAGMENT_SCRIPT_HASH}; style-src 'unsafe-inline'; form-action 'self'${formActionOrigins.map((o) => ` ${o}`).join('')}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
  };
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f3f5f7;color:#1a1f24;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{background:#fff;width:min(24rem,92vw);padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin:0 0 1.25rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.55rem .6rem;border:1px solid #8a949e;border-radius:4px;font:inherit}
button,.button{display:block;width:100%;margin-top:1.25rem;padding:.6rem;border:0;border-radius:4px;background:#0b5fad;color:#fff;font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
.button.secondary{background:#fff;color:#0b5fad;border:1px solid #0b5fad;margin-top:.6rem}
:focus-visible{outline:3px solid #e8a317;outline-offset:2px}
.error{background:#fdecea;border:1px solid #c62828;color:#8e1c1c;padding:.6rem .75rem;border-radius:4px}
.or{text-align:center;color:#5b6670;margin:1.25rem 0 .25rem}
p.note{color:#5b6670;font-size:.9rem}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface LoginPageInput {
  readonly csrf: string;
  readonly next: string;
  /** Show the username/password form (a local or LDAP provider is configured). */
  readonly passwordForm: boolean;
  readonly oidc: readonly { readonly id: string; readonly label: string }[];
  /** SAML identity providers (src/web/saml-login.ts), shown like the OIDC buttons. */
  readonly saml?: readonly { readonly id: string; readonly label: string }[];
  readonly error?: string | undefined;
  readonly username?: string | undefined;
}

export function loginPage(p: LoginPageInput): string {
  const next = encodeURIComponent(p.next);
  const error = p.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(p.error)}</p>\n` : '';
  const form = p.passwordForm
    ? `<form method="post" action="/_gatehouse/login" ${p.error ? 'aria-describedby="login-error"' : ''}>
<input type="hidden" name="csrf" value="${escapeHtml(p.csrf)}">
<input type="hidden" name="next" value="${escapeHtml(p.next)}">
<input type="hidden" name="fragment" value="">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${escapeHtml(p.username ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`
    : '';
  const idps = [...p.oidc.map((o) => ({ ...o, kind: 'oidc' })), ...(p.saml ?? []).map((o) => ({ ...o, kind: 'saml' }))];
  const or = p.passwordForm && idps.length > 0 ? '<p class="or">or</p>\n' : '';
  const buttons = idps
    .map((o) => `<a class="button secondary" data-next href="/_gatehouse/${o.kind}/start/${escapeHtml(o.id)}?next=${escapeHtml(next)}">Sign in with ${escapeHtml(o.label)}</a>`)
    .join('\n');
  const none = !p.passwordForm && idps.length === 0 ? '<p class="note">No browser sign-in method is configured.</p>' : '';
  return page('Sign in', `<h1>Sign in to MLflow</h1>\n${error}${form}\n${or}${buttons}${none}\n<script>${FRAGMENT_SCRIPT}</script>`);
}

export function logoutPage(p: { readonly csrf: string; readonly name: string }): string {
  return page(
    'Sign out',
    `<h1>Sign out</h1>
<p>Signed in as <strong>${escapeHtml(p.name)}</strong>.</p>
<form method="post" action="/_gatehouse/logout">
<input type="hidden" name="csrf" value="${escapeHtml(p.csrf)}">
<button type="submit" autofocus>Sign out</button>
</form>
<a class="button secondary" href="/">Back to MLflow</a>`,
  );
}

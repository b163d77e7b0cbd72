// @ts-check
/**
 * The Gatehouse console: hash routes (#/account, #/tenants, ...) rendered into <main>. Everyone
 * gets "My account" and "Approvals"; platform administrators get the rest. No framework, no build step.
 */
import { api, guarded, h, showError } from './ui.js';
import * as views from './views.js';

/** @type {{ path: string, label: string, admin: boolean, view: import('./views.js').View }[]} */
const ROUTES = [
  { path: 'account', label: 'My account', admin: false, view: views.account },
  { path: 'approvals', label: 'Approvals', admin: false, view: views.approvals },
  { path: 'tenants', label: 'Tenants', admin: true, view: views.tenants },
  { path: 'users', label: 'Users', admin: true, view: views.users },
  { path: 'groups', label: 'Groups', admin: true, view: views.groups },
  { path: 'grants', label: 'Grants', admin: true, view: views.grants },
  { path: 'service-accounts', label: 'Service accounts', admin: true, view: views.serviceAccounts },
  { path: 'tokens', label: 'Tokens', admin: true, view: views.tokens },
  { path: 'roles', label: 'Roles', admin: true, view: views.roles },
  { path: 'explain', label: 'Policy explain', admin: true, view: views.explain },
  { path: 'audit', label: 'Audit log', admin: true, view: views.audit },
  { path: 'usage', label: 'Usage', admin: true, view: views.usage },
  { path: 'health', label: 'Health', admin: true, view: views.health },
];

/** @type {any} */
let me;
/** @type {(() => void) | void} */
let cleanup;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

function allowed() {
  return ROUTES.filter((r) => !r.admin || me.admin);
}

/** Pending requests the signed-in principal could decide, shown beside "Approvals" (undefined: not read). */
let pending;

function renderNav(current = '') {
  $('nav-list').replaceChildren(
    ...allowed().map((r) => h('li', {}, h('a', { href: `#/${r.path}`, 'aria-current': r.path === current ? 'page' : undefined }, r.label,
      r.path === 'approvals' && pending ? h('span', { class: 'badge' }, ` ${pending} pending`) : ''))),
  );
}

/** Counts the pending requests waiting for someone other than their requester (or for anyone, when the rule lets requesters approve). */
async function countPending() {
  try {
    const r = await api('GET', '/approvals?status=pending');
    pending = r.approvals.filter((/** @type {any} */ a) => a.requester !== me.principal.id || a.selfApproval).length;
  } catch {
    pending = undefined;
  }
}

async function route() {
  if (cleanup) cleanup();
  cleanup = undefined;
  // `#/approvals/<id>`: the screen, then what it shows.
  const [name = 'account', arg] = (location.hash.replace(/^#\/?/, '') || 'account').split('/');
  const r = allowed().find((x) => x.path === name) ?? allowed()[0];
  await countPending();
  if (!r) return;
  renderNav(r.path);
  // Navigating closes the narrow-screen menu now, not once the view has loaded: a menu opened
  // while a slow view loads must stay open.
  closeMenu();
  document.title = `${r.label} · Gatehouse console`;
  showError('');
  $('status').textContent = '';
  const root = h('div', {});
  $('view').replaceChildren(root);
  cleanup = await guarded(() => r.view(root, me, arg === undefined ? undefined : decodeURIComponent(arg)));
}

function closeMenu() {
  $('nav').classList.remove('open');
  $('menu-toggle').setAttribute('aria-expanded', 'false');
}

async function start() {
  $('menu-toggle').addEventListener('click', () => {
    const open = !$('nav').classList.contains('open');
    $('nav').classList.toggle('open', open);
    $('menu-toggle').setAttribute('aria-expanded', String(open));
    if (open) /** @type {HTMLElement | null} */ ($('nav').querySelector('a'))?.focus();
  });
  me = await guarded(() => api('GET', '/me'));
  if (!me) return;
  $('who').textContent = `${me.principal.name}${me.admin ? ' (administrator)' : ''}`;
  window.addEventListener('hashchange', () => {
    void route().then(() => $('main').focus());
  });
  await route();
}

void start();

// @ts-check
/** The console's views: each renders into `root` and may return a cleanup function. */
import { announce, api, card, field, form, guarded, h, table } from './ui.js';

/** @typedef {(root: HTMLElement, me: any, arg?: string) => Promise<(() => void) | void>} View */

const enc = encodeURIComponent;
const fmtTime = (/** @type {string | null | undefined} */ t) => (t ? new Date(t).toLocaleString() : '');
/** @param {string} text @param {string} label */
const button = (text, label, /** @type {() => Promise<void>} */ onclick, cls = 'secondary') =>
  h('button', { type: 'button', class: cls, 'aria-label': label, onclick: () => void guarded(onclick) }, text);

/** @type {View} */
export async function account(root, me) {
  const p = me.principal;
  root.append(
    h('h1', {}, 'My account'),
    card(
      'Profile',
      h('dl', {},
        h('dt', {}, 'Name'), h('dd', {}, p.name),
        h('dt', {}, 'Principal'), h('dd', {}, p.id),
        h('dt', {}, 'Signed in with'), h('dd', {}, `${p.provider} (${p.method})`),
        h('dt', {}, 'Platform administrator'), h('dd', {}, me.admin ? 'yes' : 'no'),
        h('dt', {}, 'Tenants'), h('dd', {}, me.tenants.join(', ') || 'none'),
        h('dt', {}, 'Groups'), h('dd', {}, (p.groups ?? []).join(', ') || 'none')),
      table('My roles', ['Role', 'Scope', 'Via'], me.roles.map((/** @type {any} */ r) => [r.role, scopeText(r.scope), r.via])),
    ),
  );
  const tokens = h('div', {});
  const created = h('div', { 'aria-live': 'polite' });
  const section = card('My tokens', created, form('Create a token', [field('Description', 'description'), field('Tenant (optional)', 'tenant'), field('Expires in days (optional)', 'expiresInDays', { type: 'number' })], 'Create token', async (v, f) => {
    showSecret(created, await api('POST', '/me/tokens', narrowingOf(v)));
    f.reset();
    await list();
  }), tokens);
  root.append(section);
  async function list() {
    try {
      const r = await api('GET', '/me/tokens');
      tokens.replaceChildren(tokenTable('My tokens', r.tokens, false, async (t) => {
        await api('DELETE', `/me/tokens/${enc(t.id)}`);
        // The list first: when the status is announced, the table already shows the change.
        await list();
        announce(`Token ${t.id} revoked.`);
      }, (t) => button('Rotate', `Rotate token ${t.id}`, async () => {
        const next = await api('POST', `/me/tokens/${enc(t.id)}/rotate`, {});
        showSecret(created, next);
        await list();
        announce(`Token ${t.id} rotated: ${next.id} replaces it.`);
      })));
    } catch (err) {
      tokens.replaceChildren(h('p', { class: 'muted' }, err instanceof Error ? err.message : String(err)));
    }
  }
  await list();
}

/**
 * A table of tokens (never their secrets) with a Revoke button on the active ones.
 * @param {string} caption @param {any[]} list @param {boolean} withOwner
 * @param {(t: any) => Promise<void>} revoke @param {(t: any) => Node | string} [extra] another control per active token
 */
function tokenTable(caption, list, withOwner, revoke, extra) {
  return table(caption, [...(withOwner ? ['Owner'] : []), 'Id', 'Description', 'Tenant', ...(withOwner ? ['Max role'] : []), 'Created', 'Expires', 'Last used', 'Status', ''], list.map((t) => [
    ...(withOwner ? [`${t.ownerKind === 'user' ? 'user' : 'service account'} ${t.owner}`] : []),
    t.id, t.description, t.tenant ?? 'any', ...(withOwner ? [t.maxRole ?? ''] : []), fmtTime(t.createdAt), fmtTime(t.expiresAt) || 'never', fmtTime(t.lastUsedAt), t.status,
    t.status === 'active' ? h('span', {}, extra ? extra(t) : '', button('Revoke', `Revoke token ${t.id}`, () => revoke(t), 'danger')) : '',
  ]));
}

/** Shows a just-minted token's secret, once. @param {HTMLElement} where @param {any} t */
function showSecret(where, t) {
  where.replaceChildren(h('p', {}, `Token ${t.id} created for ${t.owner}. Copy it now: it is shown only once.`), h('output', { class: 'secret', id: 'new-token', 'aria-label': 'New token' }, t.token));
}

/** Number fields arrive as strings: the API wants a number. @param {Record<string, string | boolean>} v */
const narrowingOf = (v) => ({ ...v, ...(v.expiresInDays !== undefined && { expiresInDays: Number(v.expiresInDays) }) });

/** @param {any} s */
function scopeText(s) {
  if (!s) return '';
  if (s.kind === 'global') return 'everywhere';
  if (s.kind === 'tenant') return `tenant ${s.tenant}`;
  if (s.kind === 'tenants') return `tenants ${s.tenants.join(', ')}`;
  const where = s.tenant ? ` in ${s.tenant}` : '';
  if (s.kind === 'experiment') return `experiment ${s.id ?? s.namePattern}${where}`;
  if (s.kind === 'model') return `model ${s.name ?? s.namePattern}${where}`;
  return JSON.stringify(s);
}

/** @type {View} */
export async function tenants(root) {
  const list = h('div', {});
  root.append(
    h('h1', {}, 'Tenants'),
    card('Create a tenant', h('p', { class: 'muted' }, 'A tenant is an MLflow workspace: creating the tenant creates the workspace too (an existing one is adopted).'),
      form('Create a tenant', [field('Name', 'name', { required: true, placeholder: 'team-a' }), field('Default role (optional)', 'defaultRole')], 'Create tenant', async (v, f) => {
        await api('POST', '/tenants', v);
        announce(`Tenant ${v.name} created.`);
        f.reset();
        await refresh();
      })),
    card('Add a member', form('Add a tenant member', [field('Tenant', 'tenant', { required: true }), field('Member kind', 'kind', { options: ['user', 'group'] }), field('Name', 'member', { required: true })], 'Add member', async (v, f) => {
      await api('POST', `/tenants/${enc(String(v.tenant))}/members`, { [String(v.kind)]: v.member });
      announce(`${v.kind} ${v.member} added to ${v.tenant}.`);
      f.reset();
      await refresh();
    })),
    card('All tenants', list),
  );
  async function refresh() {
    const r = await api('GET', '/tenants');
    // Members are the listed ones, then (marked) those a grant in the tenant or a group brings in: the gateway counts them all.
    const names = (/** @type {string[]} */ listed, /** @type {[string[], string][]} */ more) => {
      const seen = new Set(listed);
      const extra = more.flatMap(([ms, why]) => ms.filter((m) => !seen.has(m) && seen.add(m)).map((m) => `${m} (${why})`));
      return [...listed, ...extra].join(', ');
    };
    list.replaceChildren(table('Tenants', ['Name', 'Default role', 'Users', 'Groups', 'Service accounts', 'Source', ''], r.tenants.map((/** @type {any} */ t) => [
      t.name, t.defaultRole ?? '', names(t.members.users, [[t.access.users, 'grant'], [t.access.groupMembers, 'group']]),
      names(t.members.groups, [[t.access.groups, 'grant']]), t.access.serviceAccounts.join(', '), t.source,
      // Refused while grants name it or its workspace holds experiments or models (the message says which).
      t.source === 'api' ? button('Delete', `Delete tenant ${t.name}`, async () => {
        await api('DELETE', `/tenants/${enc(t.name)}`);
        await refresh();
        announce(`Tenant ${t.name} deleted.`);
      }, 'danger') : '',
    ])));
  }
  await refresh();
}

/** @type {View} */
export async function users(root) {
  const list = h('div', {});
  const created = h('div', { 'aria-live': 'polite' });
  const sessions = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Choose Sessions on a user.'));
  root.append(
    h('h1', {}, 'Users'),
    card('Create a user or reset a password', created, form('Create a user', [field('Username', 'username', { required: true }), field('Password (empty: generate one)', 'password', { type: 'password' }), field('Platform administrator', 'admin', { type: 'checkbox' })], 'Create user', async (v, f) => {
      const u = await api('POST', '/users', v);
      created.replaceChildren(h('p', {}, `User ${u.username} created.`), u.password ? h('output', { class: 'secret', 'aria-label': 'Generated password' }, u.password) : '');
      f.reset();
      await refresh();
    })),
    card('All users', list),
    card('Browser sessions', sessions),
  );
  async function refresh() {
    const r = await api('GET', '/users');
    list.replaceChildren(table('Users', ['Username', 'Administrator', 'Disabled', 'Password set', ''], r.users.map((/** @type {any} */ u) => [
      u.username, u.admin ? 'yes' : 'no', u.disabled ? 'yes' : 'no', u.hasPassword ? 'yes' : 'no',
      h('span', {},
        button(u.disabled ? 'Enable' : 'Disable', `${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`, async () => {
          await api('PATCH', `/users/${enc(u.username)}`, { disabled: !u.disabled });
          await refresh();
          announce(`User ${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`);
        }),
        button('Reset password', `Reset password of ${u.username}`, async () => {
          const r = await api('POST', `/users/${enc(u.username)}/password`, {});
          created.replaceChildren(h('p', {}, `Password of ${r.username} reset; their browser sessions are ended. Copy it now: it is shown only once.`), h('output', { class: 'secret', 'aria-label': 'Generated password' }, r.password));
          announce(`Password of ${u.username} reset.`);
        }),
        button('Sessions', `Sessions of ${u.username}`, () => showSessions(u.username)),
        button('Delete', `Delete user ${u.username}`, async () => {
          await api('DELETE', `/users/${enc(u.username)}`);
          await refresh();
          announce(`User ${u.username} deleted, with its grants, memberships, tokens and sessions.`);
        }, 'danger')),
    ])));
  }
  /** A user's live browser sessions by handle (never the cookie), each with End, and End all. @param {string} name */
  async function showSessions(name) {
    const r = await api('GET', `/users/${enc(name)}/sessions`);
    const short = (/** @type {string} */ handle) => handle.slice(0, 12);
    sessions.replaceChildren(
      table(`Sessions of ${name}`, ['Handle', 'Created', 'Last seen', 'Expires', ''], r.sessions.map((/** @type {any} */ s) => [
        h('span', { title: s.handle }, short(s.handle)), fmtTime(s.createdAt), fmtTime(s.lastSeenAt), fmtTime(s.expiresAt),
        button('End', `End session ${short(s.handle)}`, async () => {
          await api('DELETE', `/users/${enc(name)}/sessions/${enc(s.handle)}`);
          await showSessions(name);
          announce(`Session ${short(s.handle)} of ${name} ended.`);
        }, 'danger'),
      ])),
      r.sessions.length > 0 ? h('p', {}, button('End all sessions', `End all sessions of ${name}`, async () => {
        const { revoked } = await api('DELETE', `/users/${enc(name)}/sessions`);
        await showSessions(name);
        announce(`${revoked} session(s) of ${name} ended.`);
      }, 'danger')) : '',
    );
  }
  await refresh();
}

/** @type {View} */
export async function groups(root) {
  const list = h('div', {});
  root.append(
    h('h1', {}, 'Groups'),
    card('Add a member', form('Add a group member', [field('Group', 'group', { required: true }), field('Member (principal name)', 'member', { required: true })], 'Add member', async (v, f) => {
      await api('POST', `/groups/${enc(String(v.group))}/members`, { member: v.member });
      announce(`${v.member} added to ${v.group}.`);
      f.reset();
      await refresh();
    })),
    card('All groups', list),
  );
  async function refresh() {
    const r = await api('GET', '/groups');
    list.replaceChildren(table('Groups', ['Name', 'Members', 'Source', ''], r.groups.map((/** @type {any} */ g) => [
      g.name, g.members.join(', '), g.source,
      g.source === 'api' ? h('span', {}, ...g.members.map((/** @type {string} */ m) => button(`Remove ${m}`, `Remove ${m} from ${g.name}`, async () => {
        await api('DELETE', `/groups/${enc(g.name)}/members/${enc(m)}`);
        await refresh();
      }))) : '',
    ])));
  }
  await refresh();
}

/** @type {View} */
export async function grants(root) {
  const roles = (await api('GET', '/roles')).roles.map((/** @type {any} */ r) => r.name);
  const list = h('div', {});
  const who = h('div', { 'aria-live': 'polite' });
  root.append(
    h('h1', {}, 'Grants'),
    card('Create a grant', form('Create a grant', [
      field('Role', 'role', { options: roles }),
      field('Effect', 'effect', { options: ['allow', 'deny'] }),
      field('Subject kind', 'subjectKind', { options: ['user', 'group', 'serviceAccount'] }),
      field('Subject name', 'subject', { required: true }),
      field('Tenant (empty: every tenant)', 'tenant'),
      field('Scope', 'scope', { options: ['tenant-wide', 'experiment id', 'experiment name pattern', 'model name pattern'] }),
      field('Experiment id or name pattern', 'target'),
    ], 'Create grant', async (v, f) => {
      /** @type {Record<string, unknown>} */
      const body = { role: v.role, effect: v.effect, [String(v.subjectKind)]: v.subject, ...(v.tenant !== undefined && { tenant: v.tenant }) };
      if (v.scope === 'experiment id') body.experiment = { id: v.target };
      else if (v.scope === 'experiment name pattern') body.experiment = { namePattern: v.target };
      else if (v.scope === 'model name pattern') body.model = { namePattern: v.target };
      const g = await api('POST', '/grants', body);
      announce(`Grant ${g.id} created.`);
      f.reset();
      await refresh();
    })),
    card('Who can access…', form('Who can access', [
      field('Tenant', 'tenant'),
      field('Kind', 'kind', { options: ['experiment id', 'registered model'] }),
      field('Experiment id or model name', 'target', { required: true }),
    ], 'Look up', async (v) => {
      const q = new URLSearchParams();
      if (v.tenant !== undefined) q.set('tenant', String(v.tenant));
      q.set(v.kind === 'registered model' ? 'registered_model' : 'experiment_id', String(v.target));
      const r = await api('GET', `/access?${q}`);
      const res = r.resource;
      who.replaceChildren(
        h('h3', {}, `Access to ${res.type === 'experiment' ? `experiment ${res.experimentId}${res.experimentName ? ` (${res.experimentName})` : ''}` : `registered model ${res.name}`} in ${res.tenant}`),
        table('Who can access', ['Subject', 'Level', 'Effect', 'Why'], r.entries.map((/** @type {any} */ e) => [
          `${e.subject.kind} ${e.subject.name}`, e.level, e.effect,
          h('ul', {}, ...e.reasons.map((/** @type {any} */ x) => h('li', {}, x.text)), ...e.bindings.map((/** @type {any} */ b) => h('li', {}, `${b.id}: ${b.role} (${b.effect}) on ${scopeText(b.scope)}`))),
        ])),
        h('ul', { class: 'muted' }, ...r.notes.map((/** @type {string} */ n) => h('li', {}, n))),
      );
    }), who),
    card('All grants', list),
  );
  async function refresh() {
    const r = await api('GET', '/grants');
    list.replaceChildren(table('Grants', ['Id', 'Subject', 'Role', 'Effect', 'Scope', 'Source', ''], r.grants.map((/** @type {any} */ g) => [
      g.id, g.user ? `user ${g.user}` : g.group ? `group ${g.group}` : `service account ${g.serviceAccount}`, g.role, g.effect, grantScope(g), g.source,
      g.source === 'api' ? button('Delete', `Delete grant ${g.id}`, async () => {
        await api('DELETE', `/grants/${enc(g.id)}`);
        await refresh();
        announce(`Grant ${g.id} deleted.`);
      }, 'danger') : '',
    ])));
  }
  await refresh();
}

/** @param {any} g */
function grantScope(g) {
  const where = g.tenant ? `tenant ${g.tenant}` : 'every tenant';
  if (g.experiment) return `experiment ${g.experiment.id ?? g.experiment.namePattern}, ${where}`;
  if (g.model) return `models ${g.model.namePattern}, ${where}`;
  return where;
}

/** @type {View} */
export async function serviceAccounts(root) {
  const list = h('div', {});
  const created = h('div', { 'aria-live': 'polite' });
  root.append(
    h('h1', {}, 'Service accounts'),
    card('Create a service account', h('p', { class: 'muted' }, 'Give it access with a grant whose subject kind is service account.'),
      form('Create a service account', [field('Name', 'name', { required: true, placeholder: 'ci-pipeline' }), field('Description', 'description')], 'Create service account', async (v, f) => {
        await api('POST', '/service-accounts', v);
        announce(`Service account ${v.name} created.`);
        f.reset();
        await refresh();
      })),
    card('Mint a token', created, form('Mint a service account token', [
      field('Service account', 'serviceAccount', { required: true }),
      field('Description', 'description'),
      field('Tenant (optional)', 'tenant'),
      field('Max role (optional)', 'maxRole'),
      field('Expires in days (optional)', 'expiresInDays', { type: 'number' }),
    ], 'Mint token', async (v, f) => {
      showSecret(created, await api('POST', '/tokens', narrowingOf(v)));
      f.reset();
      await refresh();
    })),
    card('All service accounts', list),
  );
  async function refresh() {
    const [r, t] = await Promise.all([api('GET', '/service-accounts'), api('GET', '/tokens?ownerKind=service_account')]);
    list.replaceChildren(
      table('Service accounts', ['Name', 'Description', 'Disabled', 'Created', 'Active tokens', ''], r.serviceAccounts.map((/** @type {any} */ a) => [
        a.name, a.description, a.disabled ? 'yes' : 'no', fmtTime(a.createdAt), String(t.tokens.filter((/** @type {any} */ x) => x.owner === a.name && x.status === 'active').length),
        h('span', {},
          button(a.disabled ? 'Enable' : 'Disable', `${a.disabled ? 'Enable' : 'Disable'} service account ${a.name}`, async () => {
            await api('PATCH', `/service-accounts/${enc(a.name)}`, { disabled: !a.disabled });
            await refresh();
            announce(`Service account ${a.name} ${a.disabled ? 'enabled' : 'disabled'}.`);
          }),
          button('Delete', `Delete service account ${a.name}`, async () => {
            await api('DELETE', `/service-accounts/${enc(a.name)}`);
            await refresh();
            announce(`Service account ${a.name} deleted, with its tokens and grants.`);
          }, 'danger')),
      ])),
      // Rotating is the service's one operation (successor minted, old token revoked, one transaction).
      tokenTable('Service account tokens', t.tokens, true, async (x) => {
        await api('DELETE', `/tokens/${enc(x.id)}`);
        await refresh();
        announce(`Token ${x.id} revoked.`);
      }, (x) => button('Rotate', `Rotate token ${x.id}`, async () => {
        const next = await api('POST', `/tokens/${enc(x.id)}/rotate`, {});
        showSecret(created, next);
        await refresh();
        announce(`Token ${x.id} rotated: ${next.id} replaces it.`);
      })),
    );
  }
  await refresh();
}

/** @type {View} */
export async function tokens(root) {
  const list = h('div', {});
  /** @type {Record<string, string | boolean>} */
  let filter = {};
  root.append(
    h('h1', {}, 'Tokens'),
    card('Filter', form('Token filter', [field('Owner', 'owner', { placeholder: 'alice or ci-pipeline' }), field('Owner kind', 'ownerKind', { options: ['', 'user', 'service_account'] })], 'Filter', async (v) => {
      filter = v;
      await refresh();
      announce('Filter applied.');
    })),
    card('All tokens', h('p', { class: 'muted' }, 'Personal tokens of every user and service account tokens; a revoked token is refused on its next use.'), list),
  );
  async function refresh() {
    const q = new URLSearchParams();
    for (const k of ['owner', 'ownerKind']) if (typeof filter[k] === 'string') q.set(k, String(filter[k]));
    const r = await api('GET', `/tokens?${q}`);
    list.replaceChildren(tokenTable('Tokens', r.tokens, true, async (t) => {
      await api('DELETE', `/tokens/${enc(t.id)}`);
      await refresh();
      announce(`Token ${t.id} revoked.`);
    }));
  }
  await refresh();
}

const FAMILIES = ['experiment', 'model', 'gateway', 'other'];
const LEVELS = ['', 'NO_PERMISSIONS', 'READ', 'USE', 'EDIT', 'MANAGE'];

/** @type {View} */
export async function roles(root) {
  const list = h('div', {});
  const editor = h('div', { 'aria-live': 'polite' });
  root.append(
    h('h1', {}, 'Roles'),
    card('Create a custom role', h('p', { class: 'muted' }, 'The highest MLflow permission per family, single operations (docs/routes.md ids, comma separated; family.* for a whole family) and where it may create.'),
      form('Create a role', roleFields(), 'Create role', async (v, f) => {
        await api('POST', '/roles', roleBody(v));
        announce(`Role ${v.name} created.`);
        f.reset();
        await refresh();
      })),
    card('Edit a custom role', editor),
    card('All roles', list),
  );
  editor.append(h('p', { class: 'muted' }, 'Choose Edit on a role made here: its grants change at once.'));
  async function refresh() {
    const r = await api('GET', '/roles');
    list.replaceChildren(table('Roles', ['Name', 'Description', 'Levels', 'Operations', 'May create', 'Source', ''], r.roles.map((/** @type {any} */ x) => [
      x.name, x.description,
      x.admin ? 'everything (platform administrator)' : Object.entries(x.levels).map(([k, l]) => `${k}: ${l}`).join(', '),
      x.operations.join(', '), x.create.join(', '), x.source,
      x.source === 'api' ? h('span', {},
        button('Edit', `Edit role ${x.name}`, async () => {
          const f = form(`Edit role ${x.name}`, roleFields(x), 'Save role', async (v) => {
            await api('PUT', `/roles/${enc(x.name)}`, roleBody(v));
            editor.replaceChildren();
            await refresh();
            announce(`Role ${x.name} saved.`);
          });
          /** @type {HTMLInputElement} */ (f.querySelector('input[name="name"]')).readOnly = true;
          editor.replaceChildren(f);
          /** @type {HTMLElement} */ (f.querySelector('select'))?.focus();
        }),
        button('Delete', `Delete role ${x.name}`, async () => {
          await api('DELETE', `/roles/${enc(x.name)}`);
          await refresh();
          announce(`Role ${x.name} deleted.`);
        }, 'danger')) : '',
    ])));
  }
  await refresh();
}

/** The role form's fields, filled from `r` when editing. @param {any} [r] */
function roleFields(r) {
  return [
    field('Name', 'name', { required: true, value: r?.name }),
    field('Description', 'description', { value: r?.description }),
    ...FAMILIES.map((f) => field(`Level: ${f}`, `level.${f}`, { options: LEVELS, value: r?.levels[f] ?? '' })),
    field('Operations', 'operations', { placeholder: 'runs.logMetric, prompts.*', value: r?.operations.join(', ') }),
    ...FAMILIES.slice(0, 2).map((f) => {
      const box = field(`May create in ${f}`, `create.${f}`, { type: 'checkbox' });
      /** @type {HTMLInputElement} */ (box.querySelector('input')).checked = Boolean(r?.create.includes(f));
      return box;
    }),
  ];
}

/** The role create form's flat values as the API's role (src/policy/config.ts roleSchema). @param {Record<string, string | boolean>} v */
function roleBody(v) {
  return {
    name: v.name,
    ...(typeof v.description === 'string' && { description: v.description }),
    levels: Object.fromEntries(FAMILIES.flatMap((f) => (typeof v[`level.${f}`] === 'string' ? [[f, v[`level.${f}`]]] : []))),
    operations: typeof v.operations === 'string' ? v.operations.split(',').map((o) => o.trim()).filter(Boolean) : [],
    create: FAMILIES.filter((f) => v[`create.${f}`] === true),
  };
}

/** @type {View} */
export async function explain(root) {
  const out = h('div', { 'aria-live': 'polite' });
  root.append(
    h('h1', {}, 'Policy explain'),
    card('Can this principal do this?', h('p', { class: 'muted' }, "The gateway's own decision over the policy in force, with its reasons and the grants that decided (the same as gatehouse policy explain)."),
      form('Explain a decision', [
        field('Principal', 'principal', { required: true, placeholder: 'local:alice, alice or a service account' }),
        field('Service account', 'serviceAccount', { type: 'checkbox' }),
        field('Operation', 'op', { required: true, placeholder: 'runs.create' }),
        field('Tenant (empty: their default)', 'tenant'),
        field('Experiment id', 'experimentId'),
        field('Experiment name', 'experimentName'),
        field('Model or prompt name', 'model'),
      ], 'Explain', async (v) => {
        const r = await api('POST', '/policy/explain', v);
        out.replaceChildren(
          h('p', {}, 'Decision: ', h('strong', { class: r.effect === 'allow' ? 'ok' : 'bad', id: 'explain-effect' }, r.effect)),
          table('Reasons', ['Reason', 'Meaning'], r.reasons.map((/** @type {string} */ id) => [id, r.reasonText?.[id] ?? ''])),
          table('Grants that decided', ['Grant'], r.matchedBindings.map((/** @type {string} */ b) => [b])),
        );
      })),
    out,
  );
}

/** Events per page of the audit table. */
const AUDIT_PAGE = 25;

/** @type {View} */
export async function audit(root) {
  const rows = h('div', {});
  const detail = h('div', { tabindex: '-1', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Choose Details on an event.'));
  let page = 0;
  /** @type {Record<string, string | boolean>} */
  let filters = {};
  /** @type {Map<string, any>} */
  const seen = new Map();
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  const tail = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false' }, 'Live tail');
  tail.addEventListener('click', () => {
    const on = tail.getAttribute('aria-pressed') !== 'true';
    tail.setAttribute('aria-pressed', String(on));
    if (timer !== undefined) clearInterval(timer);
    timer = on ? setInterval(() => void guarded(() => load(true)), 2000) : undefined;
    announce(on ? 'Live tail on: new events every 2 seconds.' : 'Live tail off.');
  });

  /** Fetches the filtered events (following cursors); with `more`, only those since the newest seen. */
  async function load(/** @type {boolean} */ more) {
    const q = new URLSearchParams();
    for (const k of ['type', 'principal', 'tenant', 'operation', 'decision', 'outcome', 'target', 'door']) if (typeof filters[k] === 'string') q.set(k, String(filters[k]));
    const from = typeof filters.from === 'string' ? new Date(filters.from).toISOString() : undefined;
    const to = typeof filters.to === 'string' ? new Date(filters.to).toISOString() : undefined;
    const newest = more ? [...seen.values()].reduce((m, e) => (e.time > m ? e.time : m), '') : '';
    const since = newest && (!from || newest > from) ? newest : from;
    if (since) q.set('from', since);
    if (to) q.set('to', to);
    q.set('limit', '1000');
    if (!more) seen.clear();
    let cursor;
    for (let n = 0; n < 20; n++) {
      if (cursor) q.set('cursor', cursor);
      const r = await api('GET', `/audit?${q}`);
      for (const e of r.events) seen.set(e.hash ?? `${e.requestId}:${e.phase}`, e);
      cursor = r.nextCursor;
      if (!cursor) break;
    }
    render();
  }
  function render() {
    const events = [...seen.values()].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    const pages = Math.max(1, Math.ceil(events.length / AUDIT_PAGE));
    page = Math.min(page, pages - 1);
    const shown = events.slice(page * AUDIT_PAGE, (page + 1) * AUDIT_PAGE);
    const turn = (/** @type {number} */ to) => async () => {
      page = to;
      render();
    };
    const newer = /** @type {HTMLButtonElement} */ (button('Newer', 'Newer events', turn(page - 1)));
    const older = /** @type {HTMLButtonElement} */ (button('Older', 'Older events', turn(page + 1)));
    newer.disabled = page === 0;
    older.disabled = page >= pages - 1;
    rows.replaceChildren(
      h('p', { class: 'muted', id: 'audit-page' }, `${events.length} event(s). Page ${page + 1} of ${pages}.`),
      h('p', {}, newer, older),
      // Admin events (changes, sign-ins) share the columns: the actor, the door, the action, the outcome, the target.
      table('Audit events, newest first', ['Time', 'Principal or actor', 'Tenant', 'Method or door', 'Operation or action', 'Decision', 'Outcome', 'Status', 'Phase', 'Type', 'Target', ''], shown.map((e, i) => [
        ...(e.type === 'admin'
          ? [fmtTime(e.time), e.actor.id, e.tenant ?? '', e.door, e.action, '', e.outcome, '', '', 'admin', `${e.target.kind}:${e.target.id}`]
          : [fmtTime(e.time), e.principal?.id ?? 'anonymous', e.tenant ?? '', e.method, e.operation ?? '', e.decision ? e.decision.effect : '', e.outcome, e.status ?? '', e.phase, 'request', '']),
        button('Details', `Details of event ${page * AUDIT_PAGE + i + 1}`, async () => {
          // The whole stored event (it never holds a credential or a body), as text.
          detail.replaceChildren(h('h3', {}, `Event ${e.requestId || e.hash || ''}`), h('pre', { id: 'event-detail', tabindex: '0' }, JSON.stringify(e, null, 2)));
          detail.focus();
        }),
      ])),
    );
  }
  root.append(
    h('h1', {}, 'Audit log'),
    card('Filters', form('Audit filters', [
      field('Type', 'type', { options: ['', 'request', 'admin'] }),
      field('Principal', 'principal', { placeholder: 'local:alice' }),
      field('Tenant', 'tenant'),
      field('Operation', 'operation', { placeholder: 'runs.create' }),
      field('Decision', 'decision', { options: ['', 'allow', 'deny'] }),
      // src/audit/event.ts AUDIT_OUTCOMES (the console test compares the two).
      field('Outcome', 'outcome', { options: ['', 'allowed', 'denied', 'malformed', 'failed', 'aborted', 'pending'] }),
      field('Target (admin)', 'target', { placeholder: 'user:alice' }),
      field('Door (admin)', 'door', { options: ['', 'api', 'console', 'cli', 'compat', 'config', 'login'] }),
      field('From', 'from', { type: 'datetime-local' }),
      field('To', 'to', { type: 'datetime-local' }),
    ], 'Apply filters', async (v) => {
      filters = v;
      page = 0;
      await load(false);
      announce('Filters applied.');
    }), h('p', {}, tail)),
    card('Events', rows),
    card('Event detail', detail),
  );
  await load(false);
  return () => {
    if (timer !== undefined) clearInterval(timer);
  };
}

/**
 * A bar chart of one series as inline SVG.
 * @param {string} title @param {string[]} days @param {number[]} values
 */
export function barChart(title, days, values) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 300, H = 140, L = 30, B = 20, T = 10;
  const max = Math.max(1, ...values);
  const bw = (W - L - 4) / Math.max(1, values.length);
  /** @param {string} tag @param {Record<string, string | number>} a @param {string} [text] */
  const s = (tag, a, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(a)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${title}: ${values.reduce((a, b) => a + b, 0)} in total, at most ${Math.max(0, ...values)} a day` });
  svg.append(s('title', {}, title));
  svg.append(s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }), s('line', { class: 'axis', x1: L, y1: H - B, x2: W, y2: H - B }));
  svg.append(s('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }, String(max)), s('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, '0'));
  values.forEach((v, i) => {
    const bh = ((H - B - T) * v) / max;
    const bar = s('rect', { class: 'bar', x: L + 2 + i * bw, y: H - B - bh, width: Math.max(1, bw - 1), height: bh });
    bar.append(s('title', {}, `${days[i]}: ${v}`));
    svg.append(bar);
  });
  if (days.length > 0) svg.append(s('text', { x: L, y: H - 5 }, days[0] ?? ''), s('text', { x: W, y: H - 5, 'text-anchor': 'end' }, days.at(-1) ?? ''));
  return h('figure', {}, svg, h('figcaption', {}, title));
}

/** @type {View} */
export async function usage(root) {
  const out = h('div', {});
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
  async function load(/** @type {Record<string, string | boolean>} */ v) {
    const q = new URLSearchParams();
    for (const k of ['from', 'to', 'tenant']) if (typeof v[k] === 'string') q.set(k, String(v[k]));
    const r = await api('GET', `/usage?${q}`);
    out.replaceChildren(
      ...(r.tenants.length === 0 ? [h('p', { class: 'muted' }, 'No usage in this range.')] : []),
      ...r.tenants.map((/** @type {any} */ t) => card(`Tenant ${t.tenant ?? '(none)'}`, h('div', { class: 'charts' },
        barChart(`API calls, ${t.tenant ?? 'no tenant'}`, r.days, t.apiCalls),
        barChart(`Runs created, ${t.tenant ?? 'no tenant'}`, r.days, t.runsCreated),
        barChart(`Model registrations, ${t.tenant ?? 'no tenant'}`, r.days, t.modelRegistrations)))),
    );
  }
  root.append(
    h('h1', {}, 'Usage'),
    card('Range', form('Usage range', [field('From', 'from', { type: 'date', value: monthAgo }), field('To', 'to', { type: 'date', value: today }), field('Tenant (optional)', 'tenant')], 'Show', load)),
    out,
  );
  await load({ from: monthAgo, to: today });
}

/** @type {View} */
export async function health(root) {
  const out = h('div', {});
  async function load() {
    const r = await api('GET', '/readyz');
    const checks = Object.entries(r.checks ?? {});
    out.replaceChildren(
      h('p', {}, 'Overall: ', h('span', { class: r.status === 'ready' ? 'ok' : 'bad' }, r.status)),
      table('Checks', ['Check', 'State', 'Detail'], checks.map(([name, c]) => [name, h('span', { class: c.ok ? 'ok' : 'bad' }, c.ok ? 'ok' : 'failing'), c.detail ?? ''])),
    );
  }
  const scim = h('div', {});
  async function loadScim() {
    const r = await api('GET', '/scim/health');
    /** @param {any} a */
    const activity = (a) => (a ? `${a.at}: ${a.method} ${a.resource} → ${a.status}${a.client ? ` (client ${a.client})` : ''}${a.detail ? ` — ${a.detail}` : ''}` : 'none yet');
    scim.replaceChildren(
      h('p', {}, 'SCIM door: ', h('span', { class: r.enabled ? 'ok' : 'muted' }, r.enabled ? 'enabled' : 'disabled (scim.enabled)')),
      table('SCIM provisioning', ['What', 'Value'], [
        ['Last request', activity(r.lastRequest)],
        ['Last error', activity(r.lastError)],
        ['Users (active / inactive)', `${r.counts.users.active} / ${r.counts.users.inactive}`],
        ['Groups', String(r.counts.groups)],
        ['Memberships', String(r.counts.memberships)],
      ]),
    );
  }
  root.append(
    h('h1', {}, 'Health'),
    card('Upstreams and identity providers', h('p', {}, button('Refresh', 'Refresh health', load)), out),
    card('SCIM provisioning', h('p', {}, button('Refresh', 'Refresh SCIM provisioning health', loadScim)), scim),
  );
  await Promise.all([load(), loadScim()]);
}

/** What a held call does, in one line. @param {any} a */
const heldWhat = (a) => (a.summary?.kind === 'alias' ? `alias ${a.summary.alias} of ${a.summary.model} → version ${a.summary.version}` : `${a.method} ${a.path}`);

/**
 * Approval requests (issue 23): the queue (pending ones the caller may see: their own and those
 * they may decide), or with an id one request with what it will do and Approve / Deny.
 * @type {View}
 */
export async function approvals(root, me, id) {
  if (id !== undefined) return approval(root, me, id);
  const list = h('div', {});
  const status = field('Status', 'status', { options: ['pending', 'executed', 'denied', 'expired', 'refused', ''], value: 'pending' });
  const select = /** @type {HTMLSelectElement} */ (status.querySelector('select'));
  select.addEventListener('change', () => void guarded(refresh));
  root.append(h('h1', {}, 'Approvals'), card('Requests', status, list));
  async function refresh() {
    const r = await api('GET', `/approvals${select.value ? `?status=${enc(select.value)}` : ''}`);
    list.replaceChildren(table('Approval requests', ['Request', 'Tenant', 'Requester', 'What', 'Approvals', 'Created', 'Expires', 'Status'], r.approvals.map((/** @type {any} */ a) => [
      h('a', { href: `#/approvals/${enc(a.id)}`, 'aria-label': `Request ${a.id}` }, a.id.slice(0, 8)),
      a.tenant ?? '', a.requester, heldWhat(a), `${a.votes.filter((/** @type {any} */ v) => v.decision === 'approve').length} of ${a.required}`,
      fmtTime(a.createdAt), fmtTime(a.expiresAt), a.status,
    ])));
  }
  await refresh();
}

/** One request. @param {HTMLElement} root @param {any} me @param {string} id */
async function approval(root, me, id) {
  const a = await api('GET', `/approvals/${enc(id)}`);
  const what = h('p', {}, heldWhat(a));
  root.append(
    h('h1', {}, 'Approval request'),
    h('p', {}, h('a', { href: '#/approvals' }, 'All requests')),
    card('Request',
      h('p', {}, `Status: ${a.status}`),
      h('dl', {},
        h('dt', {}, 'Id'), h('dd', {}, a.id),
        h('dt', {}, 'Tenant'), h('dd', {}, a.tenant ?? 'none'),
        h('dt', {}, 'Requester'), h('dd', {}, a.requester),
        h('dt', {}, 'Rule'), h('dd', {}, `${a.rule}: ${a.required === 2 ? 'two distinct people approve' : 'one person approves'}`),
        h('dt', {}, 'Call'), h('dd', {}, `${a.method} ${a.path} (${a.op}, body SHA-256 ${a.bodyHash.slice(0, 16)}…)`),
        h('dt', {}, 'Created'), h('dd', {}, fmtTime(a.createdAt)),
        h('dt', {}, 'Expires'), h('dd', {}, fmtTime(a.expiresAt)),
        a.result && h('dt', {}, "MLflow's answer"), a.result && h('dd', {}, `HTTP ${a.result.status} ${a.result.body.slice(0, 500)}`))),
    card('What will happen', what),
    card('Votes', table('Votes', ['Who', 'Decision', 'Comment', 'When'], a.votes.map((/** @type {any} */ v) => [v.approver, v.decision, v.comment ?? '', fmtTime(v.at)]))),
  );
  if (a.summary?.kind === 'alias') {
    // Read from MLflow now; anything but a clear answer is said to be unknown, never guessed.
    const now = await api('GET', `/approvals/${enc(id)}/current`).catch(() => ({ state: 'unknown' }));
    const from = now.state === 'set' ? `version ${now.version}` : now.state === 'unset' ? '(not set)' : '(unknown: MLflow could not say)';
    what.textContent = `Model ${a.summary.model}: alias ${a.summary.alias} moves from ${from} to version ${a.summary.version}.`;
  }
  if (a.status !== 'pending') return;
  if (a.requester === me.principal.id && !a.selfApproval) {
    root.append(h('p', { class: 'muted' }, 'You asked for this: another person decides it.'));
    return;
  }
  const comment = h('textarea', { id: 'approval-comment', name: 'comment', rows: 3, maxlength: 2000 });
  /** @param {'approve' | 'deny'} verb */
  const decide = async (verb) => {
    const text = /** @type {HTMLTextAreaElement} */ (comment).value.trim();
    if (verb === 'deny' && text === '') throw new Error('A denial needs a comment saying why.');
    await api('POST', `/approvals/${enc(id)}/${verb}`, text === '' ? {} : { comment: text });
    root.replaceChildren();
    await approval(root, me, id);
    announce(`Request ${id} ${verb === 'approve' ? 'approved' : 'denied'}.`);
  };
  root.append(card('Decide',
    h('div', { class: 'field' }, h('label', { for: 'approval-comment' }, 'Comment'), comment),
    h('p', {}, button('Approve', 'Approve', () => decide('approve'), ''), ' ', button('Deny', 'Deny', () => decide('deny'), 'danger'))));
}

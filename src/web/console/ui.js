// @ts-check
/**
 * DOM and API helpers for the console. Elements are built with `h()` (text goes through
 * text nodes, never innerHTML), so nothing an API returns can inject markup.
 */

export const API = '/_gatehouse/api/v1';
export const LOGIN = '/_gatehouse/login?next=%2F_gatehouse%2F';

/**
 * Creates an element. `attrs` keys starting with `on` are event listeners; `false`/`null`/`undefined` values are skipped.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (k === 'value' && 'value' in el) /** @type {HTMLInputElement} */ (el).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

/** An error the admin API answered with (MLflow's error shape). */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls the admin API with the session cookie. A 401 sends the browser to the login page.
 * @param {string} method
 * @param {string} path below /_gatehouse/api/v1 (or absolute when it starts with /_ or /readyz)
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  const url = path.startsWith('/_') || path.startsWith('/readyz') ? path : API + path;
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 401) {
    location.assign(LOGIN);
    throw new ApiError(401, 'signed out');
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok && !(path.startsWith('/readyz') && res.status === 503)) {
    throw new ApiError(res.status, (data && typeof data.message === 'string' && data.message) || `${method} ${path}: HTTP ${res.status}`);
  }
  return data;
}

/** @param {string} message */
export function showError(message) {
  const el = /** @type {HTMLElement} */ (document.getElementById('error'));
  el.textContent = message;
}

/** @param {string} message */
export function announce(message) {
  const el = /** @type {HTMLElement} */ (document.getElementById('status'));
  el.textContent = message;
}

/**
 * Runs an action, showing its error (if any) in the alert region.
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T | undefined>}
 */
export async function guarded(fn) {
  showError('');
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showError(err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

let fieldSeq = 0;

/**
 * A labelled input (or select when `options` is given).
 * @param {string} label
 * @param {string} name
 * @param {{ type?: string, required?: boolean, placeholder?: string, options?: string[], value?: string }} [o]
 */
export function field(label, name, o = {}) {
  const id = `f-${name}-${++fieldSeq}`;
  const control = o.options
    ? h('select', { id, name }, ...o.options.map((v) => h('option', { value: v, selected: v === o.value }, v === '' ? '(any)' : v)))
    : h('input', { id, name, type: o.type ?? 'text', required: o.required, placeholder: o.placeholder, value: o.value, autocomplete: 'off', spellcheck: 'false' });
  if (o.type === 'checkbox') return h('div', { class: 'field check' }, control, h('label', { for: id }, label));
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

/**
 * A form whose submit handler gets the named values (checkboxes as booleans, empty strings dropped).
 * @param {string} title accessible name
 * @param {HTMLElement[]} fields
 * @param {string} submit button text
 * @param {(values: Record<string, string | boolean>, form: HTMLFormElement) => Promise<void>} onsubmit
 */
export function form(title, fields, submit, onsubmit) {
  const f = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', 'aria-label': title }, ...fields, h('button', { type: 'submit' }, submit)));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    /** @type {Record<string, string | boolean>} */
    const values = {};
    for (const el of Array.from(f.elements)) {
      const input = /** @type {HTMLInputElement} */ (el);
      if (!input.name) continue;
      if (input.type === 'checkbox') values[input.name] = input.checked;
      else if (input.value.trim() !== '') values[input.name] = input.value.trim();
    }
    void guarded(() => onsubmit(values, f));
  });
  return f;
}

/**
 * A table; cells are strings or nodes.
 * @param {string} caption
 * @param {string[]} headers
 * @param {(Node | string | number | null | undefined)[][]} rows
 */
export function table(caption, headers, rows) {
  if (rows.length === 0) return h('p', { class: 'muted' }, `${caption}: none.`);
  return h(
    'table',
    {},
    h('caption', { class: 'muted', style: undefined }, caption),
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c ?? ''))))),
  );
}

/** @param {string} title @param {...(Node | string | null | undefined | false)} children */
export function card(title, ...children) {
  return h('section', { class: 'card', 'aria-label': title }, h('h2', {}, title), ...children);
}

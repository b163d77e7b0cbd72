/**
 * Every reference MLflow parses that the gateway must read too — a model version's `source` and
 * `run_link`, `models:` / `runs:` / `mlflow-artifacts:` / `file:` URIs, artifact and attachment
 * paths — read here and nowhere else, exactly as MLflow 3.18 reads it, or refused.
 *
 * MLflow reads URIs with Python's `urllib.parse` (3.11), which strips leading C0 controls and
 * spaces, deletes TAB/CR/LF anywhere, lower-cases the scheme and accepts an empty authority
 * (`models:///name/1` is the local registry); different call sites split `?`, `#` and `;`
 * differently, and artifact paths are percent-decoded again until stable
 * (`uri.validate_path_is_safe`). A reference in any spelling where that could matter is refused
 * with `GATEHOUSE_REQUEST_AMBIGUOUS_REFERENCE` rather than guessed at, so what the gateway checks
 * is what MLflow resolves (test/routes/references-mlflow.test.ts feeds both the same corpus).
 */
import { GatehouseError } from '../../errors.ts';

/** A URI as `urllib.parse.urlsplit` reads it, restricted to spellings every reader agrees on. */
export interface UriParts {
  /** The scheme, lower case; '' for a plain path. */
  readonly scheme: string;
  /** What follows `//` up to the path; undefined when there is no `//`. */
  readonly authority: string | undefined;
  /** The rest: '' or starting with `/` after an authority; anything without one. */
  readonly path: string;
}

/** What a model version's `source` names (`handlers._create_model_version` and the functions it calls). */
export type ModelVersionSource =
  /** `models:/<name>/<version|stage|latest>` or `models:/<name>@<alias>`: that model's version is copied (`_resolve_registered_model_source_lineage`). */
  | { readonly type: 'registered-model'; readonly name: string }
  /** `models:/<model_id>`: must be the request's `model_id` (`_validate_source_model`). */
  | { readonly type: 'logged-model'; readonly modelId: string }
  /** `runs:/<run_id>/...`: must be the request's `run_id` (`_validate_source_run`). */
  | { readonly type: 'run'; readonly runId: string }
  /** `mlflow-artifacts:/<path>`: proxied artifacts, `[workspaces/<ws>/]<experiment_id>/...`. */
  | { readonly type: 'proxied-artifact'; readonly path: string }
  /** Any other artifact location (`s3:`, `file:`, an absolute path, ...): must lie inside the root of the request's run or logged model. */
  | { readonly type: 'artifact-uri'; readonly uri: UriParts };

/** The placeholder sources prompt versions carry (`mlflow/prompt/constants.py` `_PROMPT_SOURCE_PLACEHOLDERS`). */
export const PROMPT_SOURCE_PLACEHOLDERS: ReadonlySet<string> = new Set(['dummy-source', 'prompt-template']);

/** `mlflow.prompt.is_prompt`: a create-model-version request carrying it (true) makes a prompt version. */
const IS_PROMPT_TAG = 'mlflow.prompt.is_prompt';

function refuse(what: string, why: string): never {
  throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_REFERENCE', `${what}: ${why}`);
}

/**
 * Whitespace some reader strips: Python's `str.strip()` also takes U+0085 and U+001C-U+001F
 * (the latter are refused as control characters anyway); JavaScript's `\s` takes U+FEFF.
 */
const EDGE_SPACE = /^[\s\u0085]|[\s\u0085]$/u;

/** Characters no reference may carry: urllib deletes TAB/CR/LF, strips leading C0, and MLflow escapes the rest into `%xx`. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuseAmbiguousText(text: string, what: string): void {
  if (CONTROL.test(text)) refuse(what, 'control character (urllib deletes TAB, CR and LF and strips leading C0 characters)');
  if (EDGE_SPACE.test(text)) refuse(what, 'leading or trailing whitespace');
  if (text.includes('\\')) refuse(what, 'backslash');
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * `urllib.parse.urlsplit` on the spellings where it cannot be misread: no control characters or
 * edge whitespace (stripped or deleted by urllib), no `%` (decoded again by some callers), no
 * `?` or `#` (split off by some callers, not others), a lower-case scheme, no empty authority
 * (`models:///x` is the local registry) except `file:///`, and no empty, `.` or `..` segments.
 */
export function splitUri(text: string, what: string): UriParts {
  refuseAmbiguousText(text, what);
  if (/[%?#]/.test(text)) refuse(what, 'percent-encoding, "?" or "#"');
  const m = SCHEME.exec(text);
  const scheme = m ? m[1]! : '';
  if (scheme !== scheme.toLowerCase()) refuse(what, 'scheme not in lower case (MLflow lower-cases it)');
  let rest = m ? text.slice(m[0].length) : text;
  let authority: string | undefined;
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    authority = end === -1 ? rest.slice(2) : rest.slice(2, end);
    rest = end === -1 ? '' : rest.slice(end);
    if (authority === '' && !(scheme === 'file' && rest !== '')) refuse(what, 'empty authority ("//" with no host)');
    if (!/^[\x21-\x7e]*$/.test(authority) || /[[\]]/.test(authority)) refuse(what, 'authority is not plain ASCII');
  }
  const segments = rest.split('/');
  segments.forEach((s, i) => {
    if (s === '.' || s === '..') refuse(what, 'dot segment');
    if (s === '' && i !== 0) refuse(what, 'empty path segment ("//" or a trailing "/")');
  });
  return { scheme, authority, path: rest };
}

/**
 * `store/artifact/utils/models.py` `_parse_model_uri` on a `models:` URI already split. Python's
 * `isdigit()` also takes non-ASCII digits, so a non-ASCII suffix is refused; `@` only means an
 * alias in a one-segment path (`models:/a@b/1` is version 1 of the model `a@b`).
 */
function readModelsPath(uri: UriParts, what: string): ModelVersionSource {
  // models://<host>/...: another registry, which MLflow refuses as well.
  if (uri.authority !== undefined) refuse(what, 'models:// names another registry');
  if (!uri.path.startsWith('/') || uri.path.length <= 1) refuse(what, 'not a models:/ URI');
  const parts = uri.path.slice(1).split('/');
  if (parts.length > 2) refuse(what, 'models:/ URI with more than two segments');
  for (const p of parts) if (EDGE_SPACE.test(p)) refuse(what, 'whitespace around a models:/ segment');
  const [first, suffix] = parts as [string, string | undefined];
  if (suffix !== undefined) {
    if (!/^[\x00-\x7f]*$/.test(suffix)) refuse(what, 'non-ASCII version or stage');
    return { type: 'registered-model', name: first };
  }
  const at = first.lastIndexOf('@');
  if (at !== -1) {
    if (at === 0 || at === first.length - 1) refuse(what, 'empty model name or alias');
    return { type: 'registered-model', name: first.slice(0, at) };
  }
  return { type: 'logged-model', modelId: first };
}

/** The proxied-artifact route MLflow also recognises inside http(s) sources (`handlers._is_mlflow_artifact_source`). */
const PROXY_ROUTE = ['api', '2.0', 'mlflow-artifacts', 'artifacts'];

/** What a model version's `source` names, read as `_create_model_version` reads a non-prompt source. */
export function readModelVersionSource(text: string): ModelVersionSource {
  const what = 'model version source';
  const uri = splitUri(text, what);
  switch (uri.scheme) {
    case 'models':
      return readModelsPath(uri, what);
    case 'runs': {
      // runs://<host>/...: MLflow refuses a host (`_raise_invalid_model_version_source`).
      if (uri.authority !== undefined) refuse(what, 'runs:// with a host');
      const runId = uri.path.startsWith('/') ? uri.path.slice(1).split('/')[0]! : '';
      if (runId === '') refuse(what, 'runs:/ URI without a run id');
      return { type: 'run', runId };
    }
    case 'mlflow-artifacts':
      // With a host it never lies inside a proxied run's root (`_is_uri_within_root` compares hosts).
      if (uri.authority !== undefined || !uri.path.startsWith('/')) refuse(what, 'proxied artifacts are named mlflow-artifacts:/<path>');
      return { type: 'proxied-artifact', path: uri.path.slice(1) };
    case 'http':
    case 'https': {
      const segments = uri.path.split('/');
      const proxied = segments.some((_, i) => PROXY_ROUTE.every((p, j) => segments[i + j] === p));
      if (proxied) refuse(what, 'proxied artifacts are named mlflow-artifacts:/<path>');
      // urlparse splits `;params` off http paths (uses_params), urlsplit does not.
      if (uri.path.includes(';')) refuse(what, '";" in an http(s) path');
      return { type: 'artifact-uri', uri };
    }
    case '':
    case 'file':
      // A relative local path resolves against the server's working directory.
      if (!uri.path.startsWith('/')) refuse(what, 'a local path must be absolute');
      if (uri.authority !== undefined && uri.authority !== '') refuse(what, 'file:// with a host');
      return { type: 'artifact-uri', uri: { scheme: 'file', authority: '', path: uri.path } };
    default:
      return { type: 'artifact-uri', uri };
  }
}

/**
 * Whether a create-model-version body makes a prompt version (`handlers._is_prompt_request`:
 * the last `mlflow.prompt.is_prompt` tag, lower-cased, is `true`). Its source is then only ever
 * a placeholder. Tags that protobuf would only partly parse are refused: MLflow would act on the
 * part before the bad item.
 */
export function isPromptRequest(tags: unknown): boolean {
  if (tags === undefined || tags === null) return false;
  if (!Array.isArray(tags)) return refuse('tags', 'not a list');
  let value = 'false';
  for (const t of tags) {
    const tag = t as { key?: unknown; value?: unknown } | null;
    if (typeof tag !== 'object' || tag === null || Array.isArray(tag)) return refuse('tags', 'an item is not an object');
    if (tag.key !== undefined && tag.key !== null && typeof tag.key !== 'string') return refuse('tags', 'a key is not a string');
    if (tag.value !== undefined && tag.value !== null && typeof tag.value !== 'string') return refuse('tags', 'a value is not a string');
    if (tag.key === IS_PROMPT_TAG) value = typeof tag.value === 'string' ? tag.value : '';
  }
  // Python's lower() and JavaScript's differ only outside ASCII, where neither yields "true".
  return value.toLowerCase() === 'true';
}

/**
 * Whether `source` lies inside `root` (an artifact location MLflow reported: a run's
 * `artifact_uri`, a logged model's `artifact_location`), compared segment by segment as
 * `handlers._is_uri_within_root` does; a plain path and `file:` are the same local scheme.
 */
export function isWithinRoot(source: UriParts, root: string): boolean {
  let r: UriParts;
  try {
    r = splitUri(root, 'artifact root');
  } catch {
    return false;
  }
  const local = (u: UriParts) => (u.scheme === '' || u.scheme === 'file' ? { ...u, scheme: 'file', authority: '' } : u);
  const [s, t] = [local(source), local(r)];
  if (s.scheme !== t.scheme || (s.authority ?? '') !== (t.authority ?? '')) return false;
  const rootParts = t.path.split('/').filter((p) => p !== '');
  const sourceParts = s.path.split('/').filter((p) => p !== '');
  return rootParts.length > 0 && rootParts.every((p, i) => sourceParts[i] === p);
}

/**
 * A relative artifact path MLflow joins to a trusted root (run artifacts, a model version's or
 * logged model's files). `uri.validate_path_is_safe` decodes it again until stable, lets
 * `urlparse` strip leading blanks and drop an empty `;params` or `?query` (`";?../"` reads as
 * `"?../"`), and on POSIX lets a backslash through; the gateway refuses anything that could read
 * differently: `%`, `\\`, `#`, `?`, `;`, control characters, edge whitespace, an absolute path, a
 * scheme, `.`/`..` and empty segments (a trailing `/` is a directory).
 */
export function checkRelativeArtifactPath(path: string, what = 'artifact path'): void {
  refuseAmbiguousText(path, what);
  if (/[%#?;]/.test(path)) refuse(what, 'percent-encoding, "#", "?" or ";"');
  if (path.startsWith('/') || SCHEME.test(path)) refuse(what, 'not a relative path');
  const segments = path.split('/');
  segments.forEach((s, i) => {
    if (s === '.' || s === '..') refuse(what, 'dot segment');
    if (s === '' && i !== segments.length - 1 && path !== '') refuse(what, 'empty path segment');
  });
}

/**
 * A trace attachment is named by a UUID in canonical form (`artifact_repo._validate_attachment_path`
 * requires `str(uuid.UUID(path)) == path`, after `validate_path_is_safe` decoded it).
 */
export function checkAttachmentPath(path: string): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(path)) refuse('trace attachment path', 'not a canonical UUID');
}

/**
 * A proxied artifact path, `[workspaces/<ws>/]<experiment_id>/...` or `skills/...`, read like
 * `auth._parse_artifact_auth_target` after `validate_path_is_safe`: the `workspaces` prefix in
 * any case, and it must be the caller's own. Returns the experiment id (or `skills`), none for
 * an empty path (the artifact root, which lists every experiment).
 */
export function readProxiedArtifactPath(path: string, tenant: string | undefined): string {
  const what = 'artifact path';
  refuseAmbiguousText(path, what);
  if (/[%#?;]/.test(path)) refuse(what, 'percent-encoding, "#", "?" or ";"');
  const parts = path.split('/');
  // A trailing slash (a directory) is fine; an empty segment elsewhere or a dot segment is not.
  if (parts.some((s, i) => s === '.' || s === '..' || (s === '' && (i === 0 || i !== parts.length - 1)))) refuse(what, 'empty or dot segment');
  if (parts[0]!.toLowerCase() === 'workspaces') {
    if (parts[1] !== tenant) refuse(what, "another workspace's prefix");
    parts.splice(0, 2);
  }
  const first = parts[0];
  if (first === undefined || first === '') return refuse(what, 'no experiment');
  return first;
}

/**
 * A model version's `run_link`: MLflow stores it unread, and its UI renders it as a link
 * (`<a href={run_link}>`), which the browser parses with the WHATWG URL rules — the same
 * stripping of leading C0/space and deletion of TAB/CR/LF as urllib. Only an absolute `http(s)`
 * URL in plain form is accepted: `java\tscript:` and friends never reach a page.
 */
export function checkRunLink(link: string): void {
  const what = 'run_link';
  if (link === '') return;
  refuseAmbiguousText(link, what);
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#]|$)/.test(link)) refuse(what, 'not an absolute http(s) URL with a plain host name');
}

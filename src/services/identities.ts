/**
 * IdP identities linked to local users (`auth.providers[].link: subject`, src/identity/link.ts).
 * The rules every door gets from here: only an identity of a provider configured to link by
 * subject can be linked (anything else would be a link that silently does nothing); an identity
 * is linked to one user at most (two people never share a sign-in); a local account's own
 * identities (`local:`, `token:`) are never linked. Each change is a `user.identity.link` /
 * `user.identity.unlink` admin event; deleting the user drops its links (foreign key cascade).
 * A user's email (`link: email`) is one per user and one user per email (lower case), set or
 * cleared with a `user.email` admin event.
 */

/** An email address as `link: email` compares it: one `@`, no blanks or controls, at most 254 characters (RFC 5321 §4.5.3.1.3). */
const EMAIL = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]{1,189}$/u;

export interface UserIdentities {
  readonly username: string;
  /** The email a verified sign-in binds by (`link: email`), or null. */
  readonly email: string | null;
  readonly identities: string[];
}
import { changesOf } from '../audit/admin-event.ts';
import { IDENTITY, providerOf } from '../identity/local-names.ts';
import { deleteIdentity, emailOf, identitiesOf, insertIdentity, linkedUser, setEmail, userOfEmail } from '../store/identities.ts';
import { recordChange, type Actor, type ServiceDeps } from './context.ts';
import { conflict, invalid, notFound } from './errors.ts';

export function identitiesService(deps: ServiceDeps) {
  const { store } = deps;
  const now = () => new Date(deps.now());
  const mustFind = async (name: string) => (await store.findUserByName(name)) ?? Promise.reject(notFound(`user ${name}`));

  function checked(identity: string): string {
    if (!IDENTITY.test(identity)) throw invalid('identity', 'an identity <provider id>:<subject>, as the audit log shows it');
    const provider = providerOf(identity)!;
    const linking = deps.providers.linkBySubject ?? [];
    if (!linking.includes(provider)) {
      throw invalid('identity', `provider ${provider} does not link by subject (set link: subject on it${linking.length > 0 ? `; linking providers: ${linking.join(', ')}` : ''})`);
    }
    return identity;
  }

  return {
    async list(username: string): Promise<UserIdentities> {
      const user = await mustFind(username);
      return { username: user.username, email: await emailOf(store.db, user.id), identities: await identitiesOf(store.db, user.id) };
    },

    /** Sets (or, with null, clears) the email a verified sign-in of a `link: email` provider binds to this user. */
    async setEmail(actor: Actor, username: string, email: string | null): Promise<UserIdentities> {
      const user = await mustFind(username);
      const next = email === null ? null : email.toLowerCase();
      if (next !== null && !EMAIL.test(next)) throw invalid('email', 'an email address (local@domain, at most 254 characters)');
      const before = await emailOf(store.db, user.id);
      if (next !== null && next !== before) {
        const holder = await userOfEmail(store.db, next);
        if (holder) throw conflict(`${next} is the email of another user; clear it there first`);
      }
      if (next !== before) {
        await setEmail(store.db, user.id, next);
        await recordChange(deps, actor, { action: 'user.email', target: { kind: 'user', id: user.username }, changes: changesOf({ email: before }, { email: next }) });
      }
      return { username: user.username, email: next, identities: await identitiesOf(store.db, user.id) };
    },

    async link(actor: Actor, username: string, identity: string): Promise<UserIdentities> {
      const user = await mustFind(username);
      checked(identity);
      const owner = await linkedUser(store.db, identity);
      if (owner) throw conflict(owner.username === user.username ? `${identity} is already linked to ${user.username}` : `${identity} is linked to another user; unlink it there first`);
      const before = await identitiesOf(store.db, user.id);
      await insertIdentity(store.db, user.id, identity, now());
      const after = await identitiesOf(store.db, user.id);
      await recordChange(deps, actor, { action: 'user.identity.link', target: { kind: 'user', id: user.username }, changes: changesOf({ identities: before }, { identities: after }) });
      return { username: user.username, email: await emailOf(store.db, user.id), identities: after };
    },

    async unlink(actor: Actor, username: string, identity: string): Promise<void> {
      const user = await mustFind(username);
      const before = await identitiesOf(store.db, user.id);
      if (!(await deleteIdentity(store.db, user.id, identity))) throw notFound(`link of ${identity} to user ${user.username}`);
      const after = before.filter((i) => i !== identity);
      await recordChange(deps, actor, { action: 'user.identity.unlink', target: { kind: 'user', id: user.username }, changes: changesOf({ identities: before }, { identities: after }) });
    },
  };
}

export type IdentitiesService = ReturnType<typeof identitiesService>;

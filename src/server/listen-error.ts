/**
 * A listener that cannot bind stops the start (src/main.ts): a gateway without its public
 * listener serves nothing, and one without its internal listener would serve MLflow traffic with
 * no metrics while the operator believes it is monitored. The message names the setting to change
 * and its environment variable; `gatehouse serve` prints it and exits non-zero.
 */

export type ListenerSetting = 'server.public' | 'server.internal';

/** A listener could not bind; `message` says which, why, and the setting to change. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly setting: ListenerSetting;
  readonly code: string | undefined;
  constructor(setting: ListenerSetting, message: string, code: string | undefined) {
    super(message);
    this.setting = setting;
    this.code = code;
  }
}

/** `server.public.port` → `GATEHOUSE_SERVER__PUBLIC__PORT` (src/config/load.ts's override names). */
const envName = (path: string) => `GATEHOUSE_${path.split('.').map((p) => p.toUpperCase()).join('__')}`;

/** Listens with `listen`, turning a bind failure into a ListenError that names `setting`. */
export async function listenOrExplain<T>(setting: ListenerSetting, at: { readonly host: string; readonly port: number }, tls: boolean, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const what = `${setting === 'server.public' ? `public listener${tls ? ' (TLS)' : ''}` : 'internal listener (/metrics)'} ${at.host}:${at.port}`;
    const port = `set ${setting}.port (${envName(`${setting}.port`)}) to a free port`;
    const reason =
      err.code === 'EADDRINUSE'
        ? `the port is in use by another process: stop it, or ${port}`
        : err.code === 'EACCES'
          ? `permission denied (ports below 1024 need privileges): ${port}`
          : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? `this machine has no address ${at.host}: set ${setting}.host (${envName(`${setting}.host`)})`
            : `${err.message}: check ${setting}`;
    throw new ListenError(setting, `cannot start: the ${what} cannot listen: ${reason}`, err.code);
  }
}

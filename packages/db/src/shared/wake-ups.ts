import pg from "pg";

export interface WakeUpOptions {
  /** Without a session connection: how often `onWake` runs (default 2 s). */
  readonly pollMs?: number;
  /** With LISTEN: a slow safety poll as well, for a notification lost while reconnecting (default 60 s). */
  readonly safetyPollMs?: number;
  /** A lost listening connection (it is reopened after a second, polling meanwhile). */
  readonly onError?: (error: Error) => void;
}

export interface WakeUps {
  /** `listen` when a session connection is available (`Database.sessionUrl`), else `poll`. */
  readonly mode: "listen" | "poll";
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Calls `onWake` whenever something is `NOTIFY`ed on `channel`, over a connection of its own to
 * `sessionUrl` (LISTEN needs a session: through a transaction-mode pooler the listening server
 * connection would be lent to others), or every `pollMs` when there is none (`sessionUrl` null:
 * pooled without `DIRECT_DATABASE_URL`, or the embedded database). Senders just
 * `select pg_notify(channel, '')` in their transaction, which works through the pooler too.
 * `onWake` must be cheap and idempotent: wake-ups coalesce nothing and may come spuriously.
 */
export async function wakeUps(
  database: { readonly sessionUrl: string | null },
  channel: string,
  onWake: () => void,
  options: WakeUpOptions = {},
): Promise<WakeUps> {
  if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
  const pollMs = options.pollMs ?? 2000;
  const sessionUrl = database.sessionUrl;
  if (!sessionUrl) {
    const timer = setInterval(onWake, pollMs);
    timer.unref();
    return { mode: "poll", close: async () => clearInterval(timer) };
  }

  let closed = false;
  let client: pg.Client | null = null;
  let polling: NodeJS.Timeout | null = null;
  let reopening: NodeJS.Timeout | null = null;
  const safety = setInterval(onWake, options.safetyPollMs ?? 60_000);
  safety.unref();

  const startPolling = () => {
    polling ??= setInterval(onWake, pollMs);
    polling.unref();
  };
  const stopPolling = () => {
    if (polling) clearInterval(polling);
    polling = null;
  };
  const lost = (error: Error) => {
    if (closed) return;
    options.onError?.(error);
    client?.removeAllListeners();
    client?.end().catch(() => {});
    client = null;
    startPolling();
    reopening ??= setTimeout(() => {
      reopening = null;
      void open().catch(lost);
    }, 1000);
  };
  const open = async () => {
    const next = new pg.Client({ connectionString: sessionUrl });
    next.on("error", lost);
    next.on("notification", (message) => {
      if (message.channel === channel) onWake();
    });
    await next.connect();
    await next.query(`listen ${channel}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    stopPolling();
    onWake(); // whatever was notified while no one listened
  };
  await open().catch(lost);

  return {
    mode: "listen",
    async close() {
      closed = true;
      clearInterval(safety);
      stopPolling();
      if (reopening) clearTimeout(reopening);
      await client?.end().catch(() => {});
    },
  };
}

/**
 * Who is signed in as which client, on this node: an account and an identity → the browser
 * sessions registered with an Access Token for them. `client:alice` rings every session of
 * alice in the call's account whose token allows incoming calls (the grant's
 * `incoming.allow`), as Twilio rings every Device registered with that identity
 * (https://www.twilio.com/docs/voice/twiml/client).
 *
 * The directory is this node's alone: with several nodes, a browser is reachable from the node
 * its WebSocket reached (see the report on issue 16; a cluster-wide directory is not done).
 */

/** What the directory needs of a session. */
export interface DirectoryEntry {
  readonly accountSid: string;
  readonly identity: string;
  /** Whether it may be rung now (its token allows incoming calls and has not expired). */
  readonly ringable: boolean;
}

export class ClientDirectory<S extends DirectoryEntry = DirectoryEntry> {
  /** `accountSid identity` → sessions. */
  private readonly byClient = new Map<string, Set<S>>();

  private static keyOf(accountSid: string, identity: string): string {
    return `${accountSid} ${identity}`;
  }

  /** Adds the session under its current account and identity (again after a new token). */
  add(session: S): void {
    const key = ClientDirectory.keyOf(session.accountSid, session.identity);
    let sessions = this.byClient.get(key);
    if (!sessions) {
      sessions = new Set();
      this.byClient.set(key, sessions);
    }
    sessions.add(session);
  }

  /** Removes the session from wherever it is listed; idempotent. */
  remove(session: S): void {
    for (const [key, sessions] of this.byClient) {
      if (sessions.delete(session) && sessions.size === 0) this.byClient.delete(key);
    }
  }

  /** The sessions of that client that may be rung now. */
  ringable(accountSid: string, identity: string): S[] {
    return [...(this.byClient.get(ClientDirectory.keyOf(accountSid, identity)) ?? [])].filter((s) => s.ringable);
  }
}

/**
 * Who is looking at the web UI. Without proxy users (a local proxy) the one person
 * at the keyboard sees everything. In gateway mode the users named in the config
 * file's `uiAdmins` see everything; every other proxy user sees only the exchanges
 * and sessions recorded under their own name.
 */
export interface Viewer {
  user: string | undefined;
  admin: boolean;
}

export function viewerFor(user: string | undefined, authEnabled: boolean, admins: readonly string[]): Viewer {
  if (!authEnabled) return { user, admin: true };
  return { user, admin: user !== undefined && admins.includes(user) };
}

/**
 * The proxy user a read is narrowed to: what the query asks for when an admin looks,
 * else the viewer's own name, whatever the query says (a user who is not an admin and
 * has no name sees nothing: a NUL-led name no user can have).
 */
export function queriedUser(viewer: Viewer, asked: string | undefined): string | undefined {
  return viewer.admin ? asked : (viewer.user ?? '\u0000nobody');
}

/** Whether a record captured for `owner` (its proxy user, null for none) is visible to `viewer`. */
export function canSee(viewer: Viewer, owner: string | null | undefined): boolean {
  return viewer.admin || (viewer.user !== undefined && owner === viewer.user);
}

/**
 * Without proxy users the UI trusts whoever reaches the loopback port, so it must
 * be reached by a loopback name: a web page whose DNS name was re-bound to 127.0.0.1
 * would otherwise read the archive with the browser's help (DNS rebinding).
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

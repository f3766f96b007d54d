/**
 * `uiAdmins` names no proxy user can log in as, one line each: a name the users (--auth,
 * --auth-file, authFile) do not have (names are compared exactly, so "Alice" is not
 * "alice"), which would leave the UI's admin pages and /metrics to nobody by that name
 * without a word. Without users the UI shows everything to everyone and the list is not
 * read. Pure: check-config prints the lines, the proxy logs them at start and on reload,
 * each after the `file:line` of the name in a config file (configKeyWhere).
 */
export function uiAdminWarnings(uiAdmins: readonly string[] | undefined, users: readonly { user: string }[] | undefined): { name: string; line: string }[] {
  if (!uiAdmins || !users || users.length === 0) return [];
  const known = new Set(users.map((u) => u.user));
  return uiAdmins.filter((name) => !known.has(name)).map((name) => ({ name,
    line: `uiAdmins: "${name}" is not one of the proxy users (names are compared exactly): nobody by that name sees everything in the web UI or may scrape /metrics` }));
}

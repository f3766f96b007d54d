/**
 * A route's model for Azure OpenAI's deployment paths (pure). Azure names the model by
 * the deployment in the path (`/openai/deployments/{deployment}/chat/completions?api-version=…`)
 * and ignores a body's `model`, so a rewrite changes that segment (and a body model with it,
 * to keep the two in step). Azure's `api-key` header, like an Entra ID bearer token, is not
 * bound to the path: the client's credential still holds for the new deployment.
 * The v1 API (`/openai/v1/chat/completions`) reads the body's model like OpenAI's.
 */

/** Where the deployment segment of an Azure OpenAI path sits (before any query), or undefined. */
export function azureDeploymentSegment(path: string): { start: number; end: number } | undefined {
  const q = path.search(/[?#]/);
  const bare = q < 0 ? path : path.slice(0, q);
  const m = /\/openai\/deployments\/([^/]+)\//.exec(bare);
  if (!m) return undefined;
  const start = m.index + '/openai/deployments/'.length;
  return { start, end: start + m[1]!.length };
}

/** The path with the deployment replaced, escaped as one path segment. */
export function rewriteAzurePath(path: string, segment: { start: number; end: number }, deployment: string): string {
  return path.slice(0, segment.start) + encodeURIComponent(deployment) + path.slice(segment.end);
}

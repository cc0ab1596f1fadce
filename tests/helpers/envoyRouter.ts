/**
 * A small model of how Envoy's router picks a route and rewrites the path, for the route
 * features this project generates, following Envoy's source/common/router/config_impl.cc
 * (envoyproxy/envoy):
 * - routes are tried in order and the first match wins;
 * - `path`, `prefix` and `path_separated_prefix` are matched, case-sensitively, against the path
 *   without its query string and fragment (Http::PathUtil::removeQueryAndFragment);
 * - `path_separated_prefix` matches the prefix itself or the prefix followed by `/`;
 * - `prefix_rewrite` replaces the first N characters of the path (query kept), N being the length
 *   of the matched `prefix`, `path` or `path_separated_prefix` value
 *   (`path.replace(0, matched_path.size(), rewrite)` in currentUrlPathAfterRewriteWithMatchedPath).
 * Anything else in a route is refused, so a test never trusts the model beyond what it models.
 */

export type Forwarded =
  | { readonly cluster: string; readonly path: string }
  | { readonly status: number }
  | undefined;

const MATCH_KEYS = ["path", "prefix", "path_separated_prefix"];
/** `timeout` bounds the request; it changes neither the cluster nor the path. */
const ACTION_KEYS = ["cluster", "prefix_rewrite", "timeout", "retry_policy"];

function removeQueryAndFragment(path: string): string {
  const end = path.search(/[?#]/);
  return end < 0 ? path : path.slice(0, end);
}

function matchedValue(match: Record<string, string>, path: string): string | undefined {
  const keys = Object.keys(match);
  if (keys.length !== 1 || !MATCH_KEYS.includes(keys[0])) throw new Error(`match not modelled: ${JSON.stringify(match)}`);
  const [key] = keys;
  const value = match[key];
  if (key === "path") return path === value ? value : undefined;
  if (key === "prefix") return path.startsWith(value) ? value : undefined;
  return path.startsWith(value) && (path.length === value.length || path[value.length] === "/") ? value : undefined;
}

/** Where Envoy sends a request for `requestPath` (query included) through `routes`, and with which path. */
export function forward(routes: readonly any[], requestPath: string): Forwarded {
  const path = removeQueryAndFragment(requestPath);
  for (const route of routes) {
    const matched = matchedValue(route.match, path);
    if (matched === undefined) continue;
    if (route.direct_response !== undefined) return { status: route.direct_response.status };
    const action = route.route;
    for (const key of Object.keys(action)) if (!ACTION_KEYS.includes(key)) throw new Error(`route action not modelled: ${key}`);
    const rewritten = action.prefix_rewrite === undefined ? requestPath : action.prefix_rewrite + requestPath.slice(matched.length);
    return { cluster: action.cluster, path: rewritten };
  }
  return undefined;
}

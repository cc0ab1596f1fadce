/**
 * The cross-reference checks Docker Compose runs after the schema, ported from compose-go
 * `loader/validate.go` `checkConsistency` (same release as ./compose-spec.json): the ones a
 * file like ours can break. Compose stops at the first; this reports them all.
 */
import { sortIssues, type ComposeIssue } from "./schema";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const keysOf = (v: unknown): string[] => (isObject(v) ? Object.keys(v) : Array.isArray(v) ? v.map(String) : []);

/** Every broken reference in a document that already conforms to the schema. */
export function composeConsistencyIssues(doc: unknown): ComposeIssue[] {
  if (!isObject(doc) || !isObject(doc.services)) return [];
  const services = doc.services;
  const networks = new Set(keysOf(doc.networks));
  const configs = new Set(keysOf(doc.configs));
  const issues: ComposeIssue[] = [];
  for (const [name, raw] of Object.entries(services)) {
    if (!isObject(raw)) continue;
    const at = `services.${name}`;
    if (raw.build === undefined && raw.image === undefined && raw.provider === undefined) {
      issues.push({ path: at, message: "has neither an image nor a build context specified" });
    }
    const serviceNetworks = keysOf(raw.networks);
    if (raw.network_mode !== undefined && serviceNetworks.length > 0) {
      issues.push({ path: at, message: "declares mutually exclusive `network_mode` and `networks`" });
    }
    for (const network of serviceNetworks) {
      // "default" is the network compose creates when the file declares none.
      if (!networks.has(network) && network !== "default") issues.push({ path: `${at}.networks`, message: `refers to undefined network ${network}` });
    }
    const test = isObject(raw.healthcheck) ? raw.healthcheck.test : undefined;
    if (Array.isArray(test) && test.length > 0 && !["CMD", "CMD-SHELL", "NONE"].includes(String(test[0]))) {
      issues.push({ path: `${at}.healthcheck.test`, message: 'must start either by "CMD", "CMD-SHELL" or "NONE"' });
    }
    for (const dependency of keysOf(raw.depends_on)) {
      if (!(dependency in services)) issues.push({ path: `${at}.depends_on`, message: `depends on undefined service ${JSON.stringify(dependency)}` });
    }
    if (typeof raw.network_mode === "string" && raw.network_mode.startsWith("service:")) {
      const target = raw.network_mode.slice("service:".length);
      if (!(target in services)) issues.push({ path: `${at}.network_mode`, message: `service ${JSON.stringify(target)} not found for network_mode 'service:${target}'` });
    }
    const serviceConfigs = Array.isArray(raw.configs) ? raw.configs : [];
    for (const config of serviceConfigs) {
      const source = isObject(config) ? config.source : config;
      if (!configs.has(String(source))) issues.push({ path: `${at}.configs`, message: `refers to undefined config ${String(source)}` });
    }
  }
  return sortIssues(issues);
}

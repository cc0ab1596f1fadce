/**
 * The mesh's topology as a Graphviz DOT graph: the front proxy, each service (a cluster of its
 * versions with their weights, when it has versions), and every edge (front route → service,
 * service → upstream) labelled with its ports and the traffic policy on it. Pure and
 * deterministic: the same topology gives the same text (services sorted by name, routes in
 * match order, upstreams in the caller's order), which Graphviz lays out the same way each time.
 */
import { DELIVERED_RETRY_CONDITIONS, FRONT_PROXY_NAME, VERSION_TOTAL_WEIGHT } from "../topology";
import type { EdgePolicy, EdgeProtection, FaultInjection, FrontRoute, MeshService, Topology, Upstream } from "../topology";

/** Node id of the clients in front of the mesh. */
export const CLIENTS_NODE = "clients";

/** Colours of the picture: an mTLS hop in green, a plain one in grey (and dashed). */
const MTLS_COLOR = "#1b7f3b";
const PLAIN_COLOR = "#6b6b6b";
const FAULT_COLOR = "#b3261e";

/**
 * A DOT double-quoted string. Inside it `\` starts Graphviz's label escapes (`\n`, `\N`, `\G`,
 * ...), so a backslash of the text is doubled and a quote escaped; `lines` are joined with `\n`
 * (centred lines). Graphviz escapes `<`, `&` and `>` itself when it writes SVG text.
 */
export function dotString(...lines: readonly string[]): string {
  return `"${lines.map(escape).join("\\n")}"`;
}

function escape(line: string): string {
  return line.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n");
}

/** Like dotString, each line left-justified (`\l` ends a left-justified line). */
export function leftJustified(...lines: readonly string[]): string {
  return `"${lines.map((line) => `${escape(line)}\\l`).join("")}"`;
}

/** `15s`, `250ms`, `1.5s`: the shortest exact form. */
export function duration(ms: number): string {
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** `64KiB`, `1MiB`, `1000B`. */
function bytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}MiB`;
  if (n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}

function attributes(attrs: Readonly<Record<string, string>>): string {
  return Object.entries(attrs)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}

function statement(id: string, attrs: Readonly<Record<string, string>>): string {
  return `${dotString(id)} [${attributes(attrs)}]`;
}

/** The lines of an edge's policy: timeouts, retries, circuit breakers, outlier detection. */
export function policyLines(policy: EdgePolicy): string[] {
  const { retries, circuitBreakers: cb, outlierDetection: od } = policy;
  const lines = [`timeout ${duration(policy.timeoutMs)}${policy.perTryTimeoutMs === undefined ? "" : `, per try ${duration(policy.perTryTimeoutMs)}`}`];
  if (retries.count === 0) lines.push("no retries");
  else {
    const budget = retries.budget === undefined ? "" : `, budget ${retries.budget.percent}% (min ${retries.budget.minConcurrency})`;
    lines.push(`retries ${retries.count}${budget}`, `on ${retries.retryOn.join(", ")}${retries.idempotentOnly && retries.retryOn.some((r) => DELIVERED_RETRY_CONDITIONS.includes(r)) ? " (after delivery: idempotent only)" : ""}`);
  }
  const maxRetries = cb.maxRetries === undefined ? "" : `, ${cb.maxRetries} retries`;
  lines.push(`breakers: ${cb.maxConnections} conn, ${cb.maxPendingRequests} pending, ${cb.maxRequests} req${maxRetries}`);
  const ejectOn = [
    `${od.consecutiveLocalOriginFailure} connect failures`,
    ...(od.consecutive5xx > 0 ? [`${od.consecutive5xx} 5xx`] : []),
    ...(od.consecutiveGatewayFailure > 0 ? [`${od.consecutiveGatewayFailure} 502-504`] : []),
  ];
  lines.push(`eject after ${ejectOn.join(" or ")}, ${duration(od.baseEjectionTimeMs)}, max ${od.maxEjectionPercent}%`);
  return lines;
}

/** `fault: delay 2s 10%, abort 503 5%`, or nothing. */
export function faultLines(fault: FaultInjection | undefined): string[] {
  if (fault === undefined) return [];
  const parts = [
    ...(fault.delay ? [`delay ${duration(fault.delay.fixedDelayMs)} ${fault.delay.percentage}%`] : []),
    ...(fault.abort ? [`abort ${fault.abort.httpStatus} ${fault.abort.percentage}%`] : []),
  ];
  return [`FAULT: ${parts.join(", ")}`];
}

function protectionLines(protection: EdgeProtection): string[] {
  const rate = protection.rateLimit;
  return [
    `${rate === undefined ? "no rate limit" : `rate ${rate.tokensPerFill}/${duration(rate.fillIntervalMs)} (burst ${rate.maxTokens})`}, body max ${bytes(protection.maxRequestBytes)}`,
  ];
}

function versionNode(service: string, version: string): string {
  return `${service}/${version}`;
}

function clusterId(service: string): string {
  return `cluster_${service}`;
}

function replicas(n: number): string {
  return `${n} replica${n === 1 ? "" : "s"}`;
}

/**
 * A service is one box; a service with versions is a frame holding the service's box and one box
 * per version, the service's box pointing at each version with its share of the traffic (every
 * caller's sidecar splits by these weights).
 */
function serviceStatements(service: MeshService, topology: Topology): string[] {
  const ports = `app :${service.appPort}, ingress :${topology.ports.ingress}`;
  if (service.versions === undefined) {
    return [`  ${statement(service.name, { label: dotString(service.name, ports, replicas(service.replicas)) })};`];
  }
  return [
    `  subgraph ${dotString(clusterId(service.name))} {`,
    `    graph [${attributes({ label: dotString(""), style: dotString("rounded,dashed"), color: dotString(PLAIN_COLOR) })}];`,
    `    ${statement(service.name, { label: dotString(service.name, ports) })};`,
    ...service.versions.flatMap((v) => [
      `    ${statement(versionNode(service.name, v.name), {
        label: dotString(v.name, replicas(v.replicas)),
        ...(v.weight === 0 ? { style: dotString("rounded,dashed") } : {}),
      })};`,
      `    ${dotString(service.name)} -> ${dotString(versionNode(service.name, v.name))} [${attributes({
        label: dotString(`weight ${v.weight}/${VERSION_TOTAL_WEIGHT}`),
        style: "dotted",
        arrowhead: "empty",
      })}];`,
    ]),
    "  }",
  ];
}

function edgeStatement(from: string, to: string, label: readonly string[], mtls: boolean, fault: boolean): string {
  const color = fault ? FAULT_COLOR : mtls ? MTLS_COLOR : PLAIN_COLOR;
  const attrs: Record<string, string> = {
    label: dotString(...label),
    color: dotString(color),
    fontcolor: dotString(color),
    ...(mtls ? { penwidth: "1.6" } : { style: "dashed" }),
  };
  return `  ${dotString(from)} -> ${dotString(to)} [${attributes(attrs)}];`;
}

function routeLabel(route: FrontRoute, topology: Topology, mtls: boolean): string[] {
  const rewrite = route.prefixRewrite === route.prefix ? "" : ` -> ${route.prefixRewrite}`;
  return [
    `${route.prefix}${rewrite}`,
    `-> :${topology.ports.ingress}${route.policy.http2 ? " h2" : ""}${mtls ? " mTLS" : ""}`,
    ...protectionLines(route.protection),
    ...policyLines(route.policy),
    ...faultLines(route.fault),
  ];
}

function upstreamLabel(upstream: Upstream, topology: Topology, mtls: boolean): string[] {
  return [
    `egress :${upstream.egressPort} -> :${topology.ports.ingress}${upstream.policy.http2 ? " h2" : ""}${mtls ? " mTLS" : ""}`,
    ...policyLines(upstream.policy),
    ...faultLines(upstream.fault),
  ];
}

/** What the picture needs from the stack besides the topology. */
export interface DrawOptions {
  /** The front serves HTTPS: the stack has an edge certificate. */
  readonly https: boolean;
}

/** The options of a stack's settings: HTTPS unless its edge certificate is `none`. */
export function stackDrawOptions(settings: { readonly certificates: { readonly edge: { readonly kind: string } } }): DrawOptions {
  return { https: settings.certificates.edge.kind !== "none" };
}

function frontLabel(topology: Topology, options: DrawOptions): string[] {
  const { ports, front } = topology;
  const listeners = [
    ...(front.plainHttp === "off" ? [] : [`HTTP :${ports.front}${front.plainHttp === "redirect" ? " (redirects)" : ""}`]),
    ...(options.https ? [`HTTPS :${ports.frontTls}`] : []),
  ];
  return [FRONT_PROXY_NAME, listeners.join(", "), replicas(front.replicas)];
}

/** What the picture shows, drawn under it. */
export function legend(topology: Topology): string[] {
  const mtls = topology.security.mtls === "strict";
  return [
    `mTLS ${topology.security.mtls}: ${mtls ? "every hop between proxies is mutual TLS (green)" : "plain HTTP between proxies (grey, dashed), for debugging only"}`,
    "box: a service's pods (app + Envoy sidecar); a dashed frame: a service's versions, each with its share of the traffic",
    "edge: route or egress port -> callee's ingress port, then the caller's policy on it: timeout, retries, circuit breakers, outlier ejection; a red edge injects faults",
  ];
}

/** The DOT text of the mesh. Default options: the front serves HTTPS, as on the kind stack. */
export function meshDot(topology: Topology, options: DrawOptions = { https: true }): string {
  const mtls = topology.security.mtls === "strict";
  const byName = new Map(topology.services.map((s) => [s.name, s]));
  const service = (name: string): string => {
    // parseTopology refuses an edge to an unknown service, so this is a bug.
    if (!byName.has(name)) throw new Error(`edge to unknown service ${JSON.stringify(name)}`);
    return name;
  };
  const lines = [
    "digraph mesh {",
    `  graph [${attributes({
      rankdir: "LR",
      ordering: "out",
      fontname: dotString("Helvetica"),
      fontsize: "11",
      nodesep: "0.5",
      ranksep: "0.9",
      labelloc: "b",
      labeljust: "l",
      label: leftJustified(...legend(topology)),
    })}];`,
    `  node [${attributes({ shape: "box", style: dotString("rounded"), fontname: dotString("Helvetica"), fontsize: "11", margin: dotString("0.22,0.08") })}];`,
    `  edge [${attributes({ fontname: dotString("Helvetica"), fontsize: "9", arrowsize: "0.7" })}];`,
    `  ${statement(CLIENTS_NODE, { label: dotString(CLIENTS_NODE), shape: "plaintext" })};`,
    `  ${statement(FRONT_PROXY_NAME, { label: dotString(...frontLabel(topology, options)), penwidth: "1.6" })};`,
    `  ${dotString(CLIENTS_NODE)} -> ${dotString(FRONT_PROXY_NAME)} [${attributes({ color: dotString(PLAIN_COLOR) })}];`,
    ...topology.services.flatMap((s) => serviceStatements(s, topology)),
    ...topology.front.routes.map((route) => edgeStatement(FRONT_PROXY_NAME, service(route.service), routeLabel(route, topology, mtls), mtls, route.fault !== undefined)),
    ...topology.services.flatMap((caller) =>
      caller.upstreams.map((u) => edgeStatement(caller.name, service(u.service), upstreamLabel(u, topology, mtls), mtls, u.fault !== undefined)),
    ),
    "}",
    "",
  ];
  return lines.join("\n");
}

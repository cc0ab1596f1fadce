/**
 * Prometheus alerting rules for a mesh (the rule file format of prometheus/prometheus,
 * model/rulefmt/rulefmt.go): per edge, the error ratio and ejected hosts; per proxy, certificates
 * near expiry (with mTLS) and xDS files Envoy rejected. Thresholds are the constants below.
 */
import { toYaml } from "../envoy/serialize";
import type { Topology } from "../topology";
import { edgeTitle, meshEdges, meshProxies, type MeshEdge } from "./edges";
import { PROXY_LABEL, RDS_ROUTE_CONFIG_LABEL, HCM_PREFIX_LABEL } from "./metrics";
import { anyOf, ejectionsActive, errorRatio, matchers } from "./queries";

/** Window of every rate in the rules: four scrapes at Prometheus' default 1m interval. */
export const RULE_RATE_WINDOW = "5m";
/** More than 5% of an edge's attempts answered 5xx for 5 minutes: warning. */
export const ERROR_RATIO_WARNING = { ratio: 0.05, for: "5m" } as const;
/** More than 25% for 2 minutes: critical (the edge is mostly failing). */
export const ERROR_RATIO_CRITICAL = { ratio: 0.25, for: "2m" } as const;
/** A host of an edge ejected by outlier detection for over a minute (a base ejection is 30 s by default): warning. */
export const EJECTION_FOR = "1m";
/** Less than this many whole days to a proxy's first certificate expiry: critical (renewal has failed). */
export const CERT_EXPIRY_CRITICAL_DAYS = 1;
/** A rejected xDS file is looked for over this window; the alert stays up that long after a rejection. */
export const XDS_REJECTION_WINDOW = "10m";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

function edgeRuleLabels(edge: MeshEdge, severity: string): Record<string, string> {
  return { severity, caller: edge.caller, callee: edge.callee, ...(edge.version === undefined ? {} : { version: edge.version }) };
}

function edgeRules(edge: MeshEdge): AlertRule[] {
  const title = edgeTitle(edge);
  const ratio = errorRatio(edge, RULE_RATE_WINDOW);
  const errorRule = (name: string, level: { ratio: number; for: string }, severity: string): AlertRule => ({
    alert: name,
    expr: `(${ratio}) > ${level.ratio}`,
    for: level.for,
    labels: edgeRuleLabels(edge, severity),
    annotations: {
      summary: `${title}: {{ $value | humanizePercentage }} of requests fail with 5xx`,
      description: `More than ${level.ratio * 100}% of the requests ${edge.caller} sent to ${edge.callee}${edge.version === undefined ? "" : ` ${edge.version}`} (cluster ${edge.cluster}) were answered 5xx over ${RULE_RATE_WINDOW}, for ${level.for}. Find a failing request in the access logs of ${edge.caller} (upstream_cluster ${edge.cluster}) and follow its trace id.`,
    },
  });
  return [
    errorRule("MeshEdgeErrorRatioHigh", ERROR_RATIO_WARNING, "warning"),
    errorRule("MeshEdgeErrorRatioCritical", ERROR_RATIO_CRITICAL, "critical"),
    {
      alert: "MeshEdgeHostsEjected",
      expr: `${ejectionsActive(edge)} > 0`,
      for: EJECTION_FOR,
      labels: edgeRuleLabels(edge, "warning"),
      annotations: {
        summary: `${title}: {{ $value }} host(s) ejected by outlier detection`,
        description: `${edge.caller}'s Envoy has ejected hosts of ${edge.cluster} for ${EJECTION_FOR}: those pods failed requests in a row and get no traffic until the ejection ends.`,
      },
    },
  ];
}

/** `=~` over the mesh's proxies, so the rules only ever see this mesh's series. */
function proxySelector(topology: Topology, extra: Record<string, string> = {}): string {
  return matchers(extra).replace(/^\{/, `{${PROXY_LABEL}=~"${anyOf(meshProxies(topology))}"${Object.keys(extra).length > 0 ? "," : ""}`);
}

function certificateRules(topology: Topology): AlertRule[] {
  if (topology.security.mtls !== "strict") return [];
  const { renewBeforeHours, validityHours } = topology.security.certificates;
  const days = `min by (${PROXY_LABEL}) (envoy_server_days_until_first_cert_expiring${proxySelector(topology)})`;
  // The gauge counts whole days; a threshold at or above a certificate's whole lifetime would always fire.
  const lateDays = Math.floor(renewBeforeHours / 24) - 1;
  const late: AlertRule[] =
    lateDays >= 1 && lateDays < Math.floor(validityHours / 24)
      ? [
          {
            alert: "MeshCertificateRenewalLate",
            expr: `${days} < ${lateDays}`,
            for: "1h",
            labels: { severity: "warning" },
            annotations: {
              summary: `{{ $labels.${PROXY_LABEL} }}: a certificate expires in {{ $value }} days`,
              description: `Certificates are renewed ${renewBeforeHours}h before they expire (security.certificates.renewBeforeHours); a certificate of {{ $labels.${PROXY_LABEL} }} is a day past that and was not renewed.`,
            },
          },
        ]
      : [];
  const critical: AlertRule[] =
    Math.floor(validityHours / 24) > CERT_EXPIRY_CRITICAL_DAYS
      ? [
          {
            alert: "MeshCertificateExpiring",
            expr: `${days} < ${CERT_EXPIRY_CRITICAL_DAYS}`,
            for: "10m",
            labels: { severity: "critical" },
            annotations: {
              summary: `{{ $labels.${PROXY_LABEL} }}: a certificate expires within a day`,
              description: `A certificate {{ $labels.${PROXY_LABEL} }}'s Envoy uses expires in less than ${CERT_EXPIRY_CRITICAL_DAYS} day: with mTLS, its calls and callers fail then.`,
            },
          },
        ]
      : [];
  return [...late, ...critical];
}

function xdsRules(topology: Topology): AlertRule[] {
  const rejected = (what: string, metric: string, by: readonly string[]) => ({
    alert: `MeshXds${what}Rejected`,
    expr: `sum by (${[PROXY_LABEL, ...by].join(", ")}) (increase(${metric}${proxySelector(topology)}[${XDS_REJECTION_WINDOW}])) > 0`,
    labels: { severity: "warning" },
    annotations: {
      summary: `{{ $labels.${PROXY_LABEL} }} rejected its ${what} file`,
      description: `Envoy on {{ $labels.${PROXY_LABEL} }} refused a new ${what} file in the last ${XDS_REJECTION_WINDOW} and keeps running the previous one; its log says why (npm run status shows the versions).`,
    },
  });
  return [
    rejected("Listener", "envoy_listener_manager_lds_update_rejected", []),
    rejected("Cluster", "envoy_cluster_manager_cds_update_rejected", []),
    rejected("Route", "envoy_http_rds_update_rejected", [HCM_PREFIX_LABEL, RDS_ROUTE_CONFIG_LABEL]),
  ];
}

/** The mesh's alerting rules: edges first (in meshEdges order), then the proxies'. */
export function meshAlertRules(topology: Topology): RuleFile {
  return {
    groups: [
      { name: "envoy-mesh-edges", rules: meshEdges(topology).flatMap(edgeRules) },
      { name: "envoy-mesh-proxies", rules: [...certificateRules(topology), ...xdsRules(topology)] },
    ],
  };
}

/** The rule file as written to `out/observability/prometheus-rules.yaml`. */
export function alertRulesYaml(rules: RuleFile): string {
  return `# Prometheus alerting rules for the mesh, generated by npm run render: do not edit.\n${toYaml(rules)}`;
}

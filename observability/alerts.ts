/**
 * Prometheus alerting rules for a mesh (the rule file format of prometheus/prometheus,
 * model/rulefmt/rulefmt.go): the edges' error ratio and ejected hosts, and per proxy, certificates
 * near expiry (with mTLS) and xDS files Envoy rejected. Thresholds are the constants below.
 *
 * One rule per condition and severity, whatever the mesh's size: each expression is aggregated
 * by the labels that name what is bad (an edge: `mesh_proxy` and `envoy_cluster_name`; a proxy:
 * `mesh_proxy`), so Prometheus fires one alert per bad edge or proxy, with those labels, and the
 * annotations name it with `{{ $labels.<label> }}` (the alert's labels are its expression's
 * result's: rules/alerting.go in prometheus/prometheus).
 */
import { toYaml } from "../envoy/serialize";
import type { Topology } from "../topology";
import { CLUSTER_LABEL, HCM_PREFIX_LABEL, PROXY_LABEL, RDS_ROUTE_CONFIG_LABEL } from "./metrics";
import { ALL_EDGES, ejectionsActive, errorRatio } from "./queries";

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

/** How an alert names its edge: the caller's proxy and its cluster (`upstream_<callee>[_<version>]`). */
const EDGE = `{{ $labels.${PROXY_LABEL} }} → {{ $labels.${CLUSTER_LABEL} }}`;

function edgeRules(): AlertRule[] {
  const ratio = errorRatio(ALL_EDGES, RULE_RATE_WINDOW);
  const errorRule = (name: string, level: { ratio: number; for: string }, severity: string): AlertRule => ({
    alert: name,
    expr: `(${ratio}) > ${level.ratio}`,
    for: level.for,
    labels: { severity },
    annotations: {
      summary: `${EDGE}: {{ $value | humanizePercentage }} of requests fail with 5xx`,
      description: `More than ${level.ratio * 100}% of the requests {{ $labels.${PROXY_LABEL} }} sent on its cluster {{ $labels.${CLUSTER_LABEL} }} were answered 5xx over ${RULE_RATE_WINDOW}, for ${level.for}. Find a failing request in the access logs of {{ $labels.${PROXY_LABEL} }} (upstream_cluster {{ $labels.${CLUSTER_LABEL} }}) and follow its trace id.`,
    },
  });
  return [
    errorRule("MeshEdgeErrorRatioHigh", ERROR_RATIO_WARNING, "warning"),
    errorRule("MeshEdgeErrorRatioCritical", ERROR_RATIO_CRITICAL, "critical"),
    {
      alert: "MeshEdgeHostsEjected",
      expr: `${ejectionsActive(ALL_EDGES)} > 0`,
      for: EJECTION_FOR,
      labels: { severity: "warning" },
      annotations: {
        summary: `${EDGE}: {{ $value }} host(s) ejected by outlier detection`,
        description: `{{ $labels.${PROXY_LABEL} }}'s Envoy has ejected hosts of {{ $labels.${CLUSTER_LABEL} }} for ${EJECTION_FOR}: those pods failed requests in a row and get no traffic until the ejection ends.`,
      },
    },
  ];
}

/** A series of a mesh proxy: the scrape's relabelling gave it a mesh_proxy (PROXY_RELABEL_CONFIGS). */
const PROXY_SELECTOR = `{${PROXY_LABEL}!=""}`;

function certificateRules(topology: Topology): AlertRule[] {
  if (topology.security.mtls !== "strict") return [];
  const { renewBeforeHours, validityHours } = topology.security.certificates;
  const days = `min by (${PROXY_LABEL}) (envoy_server_days_until_first_cert_expiring${PROXY_SELECTOR})`;
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

function xdsRules(): AlertRule[] {
  const rejected = (what: string, metric: string, by: readonly string[]) => ({
    alert: `MeshXds${what}Rejected`,
    expr: `sum by (${[PROXY_LABEL, ...by].join(", ")}) (increase(${metric}${PROXY_SELECTOR}[${XDS_REJECTION_WINDOW}])) > 0`,
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

/** The mesh's alerting rules: the edges', then the proxies'. Only the certificate rules depend on the topology (its mTLS and certificate lifetimes). */
export function meshAlertRules(topology: Topology): RuleFile {
  return {
    groups: [
      { name: "envoy-mesh-edges", rules: edgeRules() },
      { name: "envoy-mesh-proxies", rules: [...certificateRules(topology), ...xdsRules()] },
    ],
  };
}

/** The rule file as written to `out/observability/prometheus-rules.yaml`. */
export function alertRulesYaml(rules: RuleFile): string {
  return `# Prometheus alerting rules for the mesh, generated by npm run render: do not edit.\n${toYaml(rules)}`;
}

/**
 * Mutual TLS, SDS and authorization objects, one small function each, in the style of
 * resources.ts. Certificates never appear in a config: every TLS context names them through SDS,
 * and each SDS file names the mounted certificate files, so a renewed Secret reaches the running
 * Envoy without a restart.
 */
import {
  CA_FILE,
  CERTIFICATE_FILE,
  EDGE_DIR,
  EDGE_SECRET,
  IDENTITY_DIR,
  IDENTITY_SECRET,
  MESH_CA_SECRET,
  PRIVATE_KEY_FILE,
  SDS_FILES,
  XDS_DIR,
} from "./names";
import type { EnvoyObject } from "./resources";
import { DOWNSTREAM_TLS_CONTEXT, RBAC, RBAC_NAME, TLS_SECRET, TLS_TRANSPORT_SOCKET_NAME, UPSTREAM_TLS_CONTEXT } from "./typeUrls";

/** An SDS secret name: each is served from its own file (SDS_FILES). */
export type SdsSecretName = keyof typeof SDS_FILES;

/** Where a listener or cluster finds an SDS file: with the other xDS files, in XDS_DIR. */
export function sdsFilePath(secret: SdsSecretName): string {
  return `${XDS_DIR}/${SDS_FILES[secret]}`;
}

/**
 * Names a secret served from its SDS file. Watching the config folder makes Envoy re-read the
 * file when the folder's content is swapped atomically (a ConfigMap update moves its `..data`
 * link), as the filesystem subscription reloads on a move in `watched_directory`
 * (envoyproxy/envoy source/extensions/config_subscription/filesystem/filesystem_subscription_impl.cc).
 */
export function makeSdsSecretConfig(secret: SdsSecretName): EnvoyObject {
  return {
    name: secret,
    sds_config: {
      resource_api_version: "V3",
      path_config_source: { path: sdsFilePath(secret), watched_directory: { path: XDS_DIR } },
    },
  };
}

/**
 * An SDS file: the DiscoveryResponse a path config source reads, with exactly one Secret whose
 * name is the SdsSecretConfig's (Envoy refuses any other count or name: "Unexpected SDS secrets
 * length" / "Unexpected SDS secret (expecting X)", source/common/secret/sds_api.cc).
 */
function makeSdsFile(secret: EnvoyObject): EnvoyObject {
  return { resources: [{ "@type": TLS_SECRET, ...secret }] };
}

/**
 * A certificate and key read from a mounted folder. Watching that folder makes Envoy re-read both
 * together when the kubelet swaps a renewed Secret in (its `..data` link moves), so a renewal needs
 * no restart. Envoy honours `watched_directory` only for a certificate delivered by SDS, which is
 * why certificates come through SDS files (TlsCertificate.watched_directory and
 * CertificateValidationContext.watched_directory in api/envoy/extensions/transport_sockets/tls/v3/common.proto).
 */
function makeTlsCertificateSecret(name: SdsSecretName, dir: string): EnvoyObject {
  return makeSdsFile({
    name,
    tls_certificate: {
      certificate_chain: { filename: `${dir}/${CERTIFICATE_FILE}` },
      private_key: { filename: `${dir}/${PRIVATE_KEY_FILE}` },
      watched_directory: { path: dir },
    },
  });
}

/** `sds-identity.json`: this proxy's mesh certificate and key. */
export function makeIdentitySdsFile(): EnvoyObject {
  return makeTlsCertificateSecret(IDENTITY_SECRET, IDENTITY_DIR);
}

/** `sds-mesh-ca.json`: the mesh CA every peer's certificate must chain to. */
export function makeMeshCaSdsFile(): EnvoyObject {
  return makeSdsFile({
    name: MESH_CA_SECRET,
    validation_context: { trusted_ca: { filename: `${IDENTITY_DIR}/${CA_FILE}` }, watched_directory: { path: IDENTITY_DIR } },
  });
}

/** `sds-edge.json`: the front proxy's certificate for clients outside the mesh. */
export function makeEdgeSdsFile(): EnvoyObject {
  return makeTlsCertificateSecret(EDGE_SECRET, EDGE_DIR);
}

/**
 * TLS 1.3 only, between proxies. The maximum must be given too: a client's default maximum is
 * TLS 1.2, so a 1.3 minimum alone would fail every handshake
 * (api/envoy/extensions/transport_sockets/tls/v3/common.proto, TlsParameters).
 */
const MESH_TLS_PARAMS = { tls_minimum_protocol_version: "TLSv1_3", tls_maximum_protocol_version: "TLSv1_3" } as const;

function transportSocket(typedConfig: EnvoyObject): EnvoyObject {
  return { name: TLS_TRANSPORT_SOCKET_NAME, typed_config: typedConfig };
}

/**
 * A sidecar's ingress: TLS 1.3 only, with a client certificate signed by the mesh CA required.
 * Who may call is the RBAC filter's decision, on the certificate's SPIFFE ID. ALPN offers h2
 * and http/1.1, so a caller speaking HTTP/2 gets it and one speaking HTTP/1.1 still connects; the
 * connection manager's AUTO codec follows the protocol ALPN chose.
 */
export function makeMeshDownstreamTls(): EnvoyObject {
  return transportSocket({
    "@type": DOWNSTREAM_TLS_CONTEXT,
    require_client_certificate: true,
    common_tls_context: {
      tls_params: MESH_TLS_PARAMS,
      alpn_protocols: ["h2", "http/1.1"],
      tls_certificate_sds_secret_configs: [makeSdsSecretConfig(IDENTITY_SECRET)],
      validation_context_sds_secret_config: makeSdsSecretConfig(MESH_CA_SECRET),
    },
  });
}

/**
 * The front proxy's HTTPS: the edge certificate, no client certificate asked (browsers and curl
 * have none), TLS 1.2 or newer, HTTP/2 offered by ALPN (the connection manager's AUTO codec speaks both).
 */
export function makeEdgeDownstreamTls(): EnvoyObject {
  return transportSocket({
    "@type": DOWNSTREAM_TLS_CONTEXT,
    require_client_certificate: false,
    common_tls_context: {
      tls_params: { tls_minimum_protocol_version: "TLSv1_2" },
      alpn_protocols: ["h2", "http/1.1"],
      tls_certificate_sds_secret_configs: [makeSdsSecretConfig(EDGE_SECRET)],
    },
  });
}

/**
 * Mutual TLS to a callee's sidecar: SNI is the callee's host name, this proxy presents its own
 * identity, and the callee's certificate must chain to the mesh CA and carry exactly the callee's
 * SPIFFE ID as URI SAN. The cluster's health checks use this transport socket too
 * (api/envoy/config/core/v3/health_check.proto, transport_socket_match_criteria: unset means the
 * cluster's socket), so they run over mTLS as the caller. `alpn` is what the caller offers (h2
 * for an HTTP/2 edge); without it, none is offered.
 */
export function makeMeshUpstreamTls(sni: string, calleeId: string, alpn?: readonly string[]): EnvoyObject {
  return transportSocket({
    "@type": UPSTREAM_TLS_CONTEXT,
    sni,
    common_tls_context: {
      tls_params: MESH_TLS_PARAMS,
      ...(alpn !== undefined ? { alpn_protocols: alpn } : {}),
      tls_certificate_sds_secret_configs: [makeSdsSecretConfig(IDENTITY_SECRET)],
      combined_validation_context: {
        default_validation_context: { match_typed_subject_alt_names: [{ san_type: "URI", matcher: { exact: calleeId } }] },
        validation_context_sds_secret_config: makeSdsSecretConfig(MESH_CA_SECRET),
      },
    },
  });
}

/** The one policy of a sidecar's RBAC filter. */
export const DECLARED_CALLERS_POLICY = "declared-callers";

/**
 * Lets through only requests whose client certificate's URI SAN is one of `callerIds`
 * (`authenticated.principal_name` matches the peer's URI SAN, source/extensions/filters/common/rbac/matchers.cc
 * in envoyproxy/envoy); anything else gets the filter's 403. No caller: rules present with no
 * policy, which denies every request (api/envoy/extensions/filters/http/rbac/v3/rbac.proto:
 * "If present and empty, DENY"). Envoy counts decisions as `http.<stat_prefix>.rbac.allowed` and
 * `.denied` under the connection manager's stat prefix (source/extensions/filters/common/rbac/utility.cc).
 */
export function makeCallerRbacFilter(callerIds: readonly string[]): EnvoyObject {
  const policies =
    callerIds.length === 0
      ? {}
      : {
          policies: {
            [DECLARED_CALLERS_POLICY]: {
              permissions: [{ any: true }],
              principals: callerIds.map((id) => ({ authenticated: { principal_name: { exact: id } } })),
            },
          },
        };
  return { name: RBAC_NAME, typed_config: { "@type": RBAC, rules: { action: "ALLOW", ...policies } } };
}

/**
 * Runtime key of the denied-reply mapper's status comparison (the proto requires one); nothing
 * sets it, so the default, 403, applies.
 */
export const DENIED_STATUS_RUNTIME_KEY = "mesh.ingress.denied_status";

/**
 * Replaces the RBAC filter's bare "RBAC: access denied" with a body that names the refused
 * caller and says how access is granted. The filter sets no response flag on a denial, only the
 * details `rbac_access_denied_matched_policy[...]` (source/extensions/filters/http/rbac/rbac_filter.cc
 * and source/extensions/filters/common/rbac/utility.cc in envoyproxy/envoy), and ResponseFlagFilter
 * has no RBAC flag to match (api/envoy/config/accesslog/v3/accesslog.proto); so the mapper matches
 * status 403. Local reply mappers see only this proxy's own replies, never the app's, and on a
 * sidecar ingress nothing but the RBAC filter answers 403 by itself (the connection manager and
 * the router answer 4xx for malformed or unroutable requests and 5xx for upstream failures), so
 * the app's own 403s pass untouched.
 */
export function makeDeniedCallerReply(service: string): EnvoyObject {
  return {
    filter: { status_code_filter: { comparison: { op: "EQ", value: { default_value: 403, runtime_key: DENIED_STATUS_RUNTIME_KEY } } } },
    body_format_override: {
      text_format_source: {
        inline_string:
          `forbidden: the caller %DOWNSTREAM_PEER_URI_SAN% is not declared as a caller of ${service}. ` +
          `Only the services that list ${service} among their upstreams in the topology (and the front proxy, for services it routes to) may call it.\n`,
      },
    },
  };
}

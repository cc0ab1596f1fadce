import type { IssueSink } from "./issues";
import { WrapperValue, fieldPath, messageList as list, pathOf, subMessage as sub, typeOf, type MessageValue, type Value } from "./values";

/**
 * Envoy's load-time checks on the TLS transport socket and its secrets, which the protos do not
 * express, with Envoy's wording (envoyproxy/envoy source/common/tls/context_config_impl.cc,
 * source/common/tls/server_context_config_impl.cc, source/common/ssl/tls_certificate_config_impl.cc,
 * source/common/ssl/certificate_validation_context_config_impl.cc). Certificates and keys that
 * live in files are not read: that needs the files, which only the running proxy has.
 *
 * A few settings Envoy loads without complaint but that cannot do what they say (a client
 * certificate "required" with nothing to verify it against, a TLS version range that is empty)
 * are warnings, which `strict` makes errors.
 */

const TLS = "envoy.extensions.transport_sockets.tls.v3.";
const DOWNSTREAM = `${TLS}DownstreamTlsContext`;
const UPSTREAM = `${TLS}UpstreamTlsContext`;
const TLS_CERTIFICATE = `${TLS}TlsCertificate`;
const SECRET = `${TLS}Secret`;

/** TlsParameters.TlsProtocol: TLS_AUTO = 0, TLSv1_0 = 1 … TLSv1_3 = 4. */
const TLS_VERSION_NAMES = ["TLS_AUTO", "TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3"];
const TLS_1_2 = 3;
const TLS_1_3 = 4;

function has(m: MessageValue | undefined, name: string): boolean {
  const v = m?.[name];
  return v !== undefined && !(Array.isArray(v) && v.length === 0);
}

function bool(m: MessageValue | undefined, name: string): boolean | undefined {
  const v: Value | undefined = m?.[name];
  if (v instanceof WrapperValue) return v.value === true;
  return typeof v === "boolean" ? v : undefined;
}

/** Names of the static secrets in the bootstrap, by the kind of secret they hold. */
export interface StaticSecrets {
  readonly tlsCertificates: ReadonlySet<string>;
  readonly validationContexts: ReadonlySet<string>;
}

export function staticSecrets(secrets: readonly MessageValue[]): StaticSecrets {
  const tlsCertificates = new Set<string>();
  const validationContexts = new Set<string>();
  for (const s of secrets) {
    const name = typeof s.name === "string" ? s.name : "";
    if (has(s, "tls_certificate")) tlsCertificates.add(name);
    if (has(s, "validation_context")) validationContexts.add(name);
  }
  return { tlsCertificates, validationContexts };
}

/** Runs the TLS checks on one parsed message, whatever its place in the config. */
export function checkTlsMessage(m: MessageValue, secrets: StaticSecrets, sink: IssueSink): void {
  const type = typeOf(m)?.typeName;
  if (type === DOWNSTREAM) checkDownstream(m, secrets, sink);
  else if (type === UPSTREAM) checkUpstream(m, secrets, sink);
  else if (type === SECRET) {
    const cert = sub(m, "tls_certificate");
    if (cert) checkTlsCertificate(cert, sink);
  }
}

function checkDownstream(context: MessageValue, secrets: StaticSecrets, sink: IssueSink): void {
  const common = sub(context, "common_tls_context");
  const at = common ? pathOf(common) : pathOf(context);
  checkCommon(common, secrets, sink);
  // A custom handshaker may provide the certificates itself (its capabilities decide).
  if (!has(common, "custom_handshaker") && !has(common, "custom_tls_certificate_selector")) {
    const inline = has(common, "tls_certificates");
    const sds = has(common, "tls_certificate_sds_secret_configs");
    if (!inline && !sds) {
      sink.error(at, "No TLS certificates found for server context (set tls_certificates or tls_certificate_sds_secret_configs)");
    } else if (inline && sds && common) {
      sink.error(fieldPath(common, "tls_certificate_sds_secret_configs"), "SDS and non-SDS TLS certificates may not be mixed in server contexts");
    }
  }
  const validation = common !== undefined && validationContextSet(common);
  const require = bool(context, "require_client_certificate");
  if (require === true && !validation) {
    // Envoy loads this, but only sets SSL_VERIFY_FAIL_IF_NO_PEER_CERT when it has a trusted CA
    // (source/common/tls/cert_validator/default_validator.cc), so no client certificate is asked.
    sink.warning(
      fieldPath(context, "require_client_certificate"),
      "require_client_certificate has no effect without a validation context: Envoy asks no client certificate and accepts any client (set validation_context, validation_context_sds_secret_config or combined_validation_context with the trusted CA)",
    );
  }
  if (require === undefined && validation) {
    sink.warning(
      pathOf(context),
      "Using deprecated insecure default of not requiring client cert when a validation context is configured. This default will be changed in a future version. Please explicitly configure a value for require_client_certificate.",
    );
  }
  checkVersionRange(common, { min: TLS_1_2, max: TLS_1_3 }, "server (DownstreamTlsContext)", sink);
}

function checkUpstream(context: MessageValue, secrets: StaticSecrets, sink: IssueSink): void {
  const common = sub(context, "common_tls_context");
  checkCommon(common, secrets, sink);
  if (typeof context.sni === "string" && context.sni.includes("\0")) {
    sink.error(fieldPath(context, "sni"), "SNI names containing NULL-byte are not allowed");
  }
  const certs = list(common, "tls_certificates").length + list(common, "tls_certificate_sds_secret_configs").length;
  if (common && certs > 1 && !has(common, "custom_tls_certificate_selector")) {
    sink.error(pathOf(common), `Multiple TLS certificates are not supported for client contexts (${certs} given)`);
  }
  checkVersionRange(common, { min: TLS_1_2, max: TLS_1_2 }, "client (UpstreamTlsContext)", sink);
}

function validationContextSet(common: MessageValue): boolean {
  return ["validation_context", "validation_context_sds_secret_config", "combined_validation_context"].some((f) => has(common, f)) ||
    has(common, "validation_context_certificate_provider") || has(common, "validation_context_certificate_provider_instance");
}

function checkCommon(common: MessageValue | undefined, secrets: StaticSecrets, sink: IssueSink): void {
  if (!common) return;
  for (const cert of list(common, "tls_certificates")) {
    // Envoy skips an entry with none of these (context_config_impl.cc).
    if (["certificate_chain", "private_key", "pkcs12", "private_key_provider"].some((f) => has(cert, f))) {
      checkTlsCertificate(cert, sink);
    }
  }
  for (const sds of list(common, "tls_certificate_sds_secret_configs")) {
    checkStaticReference(sds, secrets.tlsCertificates, "Unknown static secret", sink);
  }
  const validationSds = sub(common, "validation_context_sds_secret_config");
  if (validationSds) checkStaticReference(validationSds, secrets.validationContexts, "Unknown static certificate validation context", sink);
  const combinedSds = sub(sub(common, "combined_validation_context"), "validation_context_sds_secret_config");
  if (combinedSds) checkStaticReference(combinedSds, secrets.validationContexts, "Unknown static certificate validation context", sink);
  const inline = sub(common, "validation_context");
  if (inline) checkInlineValidationContext(inline, sink);
}

/** An SdsSecretConfig without sds_config names a secret in static_resources.secrets. */
function checkStaticReference(sds: MessageValue, names: ReadonlySet<string>, message: string, sink: IssueSink): void {
  if (has(sds, "sds_config")) return;
  const name = typeof sds.name === "string" ? sds.name : "";
  if (!names.has(name)) {
    sink.error(fieldPath(sds, "name"), `${message}: ${name} (no such secret in static_resources.secrets; set sds_config to load it through SDS)`);
  }
}

/** certificate_validation_context_config_impl.cc: what needs a trusted CA to mean anything. */
function checkInlineValidationContext(vc: MessageValue, sink: IssueSink): void {
  if (has(vc, "trusted_ca") || has(vc, "custom_validator_config") || has(vc, "ca_certificate_provider_instance")) return;
  if (has(vc, "crl")) sink.error(fieldPath(vc, "crl"), "Failed to load CRL from <inline> without trusted CA");
  for (const f of ["match_typed_subject_alt_names", "match_subject_alt_names"]) {
    if (has(vc, f)) sink.error(fieldPath(vc, f), "SAN-based verification of peer certificates without trusted CA is insecure and not allowed");
  }
  if (bool(vc, "allow_expired_certificate") === true) {
    sink.error(fieldPath(vc, "allow_expired_certificate"), "Certificate validity period is always ignored without trusted CA");
  }
}

/** tls_certificate_config_impl.cc: a certificate needs its chain and its key, or PKCS#12 alone. */
function checkTlsCertificate(cert: MessageValue, sink: IssueSink): void {
  if (typeOf(cert)?.typeName !== TLS_CERTIFICATE) return;
  if (has(cert, "pkcs12")) {
    for (const f of ["private_key", "certificate_chain", "private_key_provider"]) {
      if (has(cert, f)) sink.error(fieldPath(cert, f), `Certificate configuration can't have both pkcs12 and ${f}`);
    }
  } else {
    if (!has(cert, "certificate_chain")) {
      sink.error(pathOf(cert), "Failed to load incomplete certificate from : certificate chain not set (set certificate_chain)");
    }
    if (!has(cert, "private_key") && !has(cert, "private_key_provider")) {
      sink.error(pathOf(cert), "Failed to load incomplete private key from path:  (set private_key)");
    }
  }
  const staple = sub(cert, "ocsp_staple");
  if (staple && has(staple, "inline_string")) {
    sink.error(fieldPath(staple, "inline_string"), "OCSP staple cannot be provided via inline_string");
  }
}

/**
 * Envoy hands both bounds to BoringSSL, which takes them one by one: a minimum above the
 * maximum loads, and then every handshake fails. An unset bound is Envoy's default for the side
 * (context_config_impl.cc, server_context_config_impl.cc: a client's maximum is TLS 1.2).
 */
function checkVersionRange(
  common: MessageValue | undefined,
  defaults: { readonly min: number; readonly max: number },
  side: string,
  sink: IssueSink,
): void {
  const params = sub(common, "tls_params");
  if (!params) return;
  const given = (f: string): number | undefined => (typeof params[f] === "number" && params[f] !== 0 ? (params[f] as number) : undefined);
  const min = given("tls_minimum_protocol_version");
  const max = given("tls_maximum_protocol_version");
  const effMin = min ?? defaults.min;
  const effMax = max ?? defaults.max;
  if (effMin <= effMax) return;
  const describe = (v: number, set: boolean): string => `${TLS_VERSION_NAMES[v] ?? v}${set ? "" : " (the default)"}`;
  sink.warning(
    fieldPath(params, min !== undefined ? "tls_minimum_protocol_version" : "tls_maximum_protocol_version"),
    `tls_minimum_protocol_version ${describe(effMin, min !== undefined)} is above tls_maximum_protocol_version ${describe(effMax, max !== undefined)} for a ${side}: every handshake fails${max === undefined ? "; set tls_maximum_protocol_version" : ""}`,
  );
}

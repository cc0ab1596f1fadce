import type { core } from "@pulumi/kubernetes/types/input";
import type { Input } from "@pulumi/pulumi";
import { CA_FILE, CERTIFICATE_FILE, EDGE_DIR, IDENTITY_DIR, PRIVATE_KEY_FILE } from "../envoy/names";
import { FRONT_PROXY_NAME } from "../topology";
import { meshLabels, type Component } from "./labels";
import type { TlsSecretManifest } from "./manifest";

/*
 * Certificates on Kubernetes: one `kubernetes.io/tls` Secret per mesh identity (its certificate,
 * key and the mesh CA), and the front proxy's edge certificate. Each is mounted read-only into
 * its own proxy's Envoy container only, never into the app.
 */

/** The Secret holding one proxy's mesh identity: `<proxy>-identity`. */
export function identitySecretName(proxy: string): string {
  return `${proxy}-identity`;
}

/** The Secret the front proxy's edge certificate is stored in, when Pulumi holds the PEM. */
export const EDGE_SECRET_NAME = `${FRONT_PROXY_NAME}-edge`;

export const IDENTITY_VOLUME = "mesh-identity";
export const EDGE_VOLUME = "edge-certificate";

/**
 * Files of a Secret volume: readable by the owner (root) and the pod's fsGroup only. The pod's
 * `fsGroup` is Envoy's group (ENVOY_UID), so only Envoy reads the keys. The kubelet gives a
 * read-only volume's files its fsGroup and at most adds read for the group
 * (kubernetes/kubernetes pkg/volume/volume_linux.go, changeFilePermission), so 0440 stays 0440.
 */
export const SECRET_FILE_MODE = 0o440;

/**
 * The data of a `kubernetes.io/tls` Secret, each value base64-encoded as a Secret's `data`
 * holds it (`base64Data`); a Pulumi secret Output when deployed.
 */
export interface TlsSecretData {
  readonly [CERTIFICATE_FILE]: Input<string>;
  readonly [PRIVATE_KEY_FILE]: Input<string>;
  /** The CA bundle to trust (identity Secrets: the mesh CA). */
  readonly [CA_FILE]?: Input<string>;
}

/** A Secret's data and the annotations it carries (a rendered placeholder is marked by one). */
export interface TlsSecretSource {
  readonly data: TlsSecretData;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Where the front proxy's edge certificate comes from: a Secret built here from PEM data, or a
 * `kubernetes.io/tls` Secret that already exists in the namespace (named by the stack).
 */
export type EdgeSecretSource = ({ readonly kind: "data" } & TlsSecretSource) | { readonly kind: "existing"; readonly name: string };

/** What the builders need to give each proxy its certificates. */
export interface MeshSecretSources {
  /** One proxy's identity Secret data; asked only when `security.mtls` is `strict`. */
  readonly identity: (proxy: string) => TlsSecretSource;
  /** Required when the edge serves HTTPS (MeshTarget.edgeHttpsPort is set). */
  readonly edge?: EdgeSecretSource;
}

/** A string as a Secret's `data` stores it. */
export function base64Data(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/**
 * A `kubernetes.io/tls` Secret. Not immutable: `pulumi up` updates it in place when a
 * certificate is renewed, the kubelet swaps the mounted files atomically, and Envoy's SDS
 * watch picks them up without a restart.
 */
export function buildTlsSecret(
  name: string,
  namespace: string,
  proxy: string,
  component: Component,
  source: TlsSecretSource,
): TlsSecretManifest {
  const { data, annotations } = source;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      labels: meshLabels(proxy, component),
      ...(annotations !== undefined ? { annotations } : {}),
    },
    type: "kubernetes.io/tls",
    data: {
      [CERTIFICATE_FILE]: data[CERTIFICATE_FILE],
      [PRIVATE_KEY_FILE]: data[PRIVATE_KEY_FILE],
      ...(data[CA_FILE] !== undefined ? { [CA_FILE]: data[CA_FILE] } : {}),
    },
  };
}

/** One proxy's identity: `<proxy>-identity`, which only that proxy's pods (its ServiceAccount) mount. */
export function buildIdentitySecret(proxy: string, namespace: string, component: Component, source: TlsSecretSource): TlsSecretManifest {
  return buildTlsSecret(identitySecretName(proxy), namespace, proxy, component, source);
}

/** The front proxy's edge certificate, from PEM data Pulumi holds. */
export function buildEdgeSecret(namespace: string, source: TlsSecretSource): TlsSecretManifest {
  return buildTlsSecret(EDGE_SECRET_NAME, namespace, FRONT_PROXY_NAME, "front-proxy", source);
}

/** The Secret volume of a certificate, readable by Envoy's group only. */
export function secretVolume(volume: string, secretName: string): core.v1.Volume {
  return { name: volume, secret: { secretName, defaultMode: SECRET_FILE_MODE } };
}

export function identityVolume(proxy: string): core.v1.Volume {
  return secretVolume(IDENTITY_VOLUME, identitySecretName(proxy));
}

export function edgeVolume(secretName: string): core.v1.Volume {
  return secretVolume(EDGE_VOLUME, secretName);
}

/** Mounts of the Envoy container: a whole folder each (no subPath, which is never updated), read-only. */
export const IDENTITY_MOUNT: core.v1.VolumeMount = { name: IDENTITY_VOLUME, mountPath: IDENTITY_DIR, readOnly: true };
export const EDGE_MOUNT: core.v1.VolumeMount = { name: EDGE_VOLUME, mountPath: EDGE_DIR, readOnly: true };

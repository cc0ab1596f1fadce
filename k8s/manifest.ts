import type { apps, core, policy } from "@pulumi/kubernetes/types/input";
import type { Input } from "@pulumi/pulumi";

/** Metadata every object of the mesh carries; names and namespaces are always known up front. */
export interface Metadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Kubernetes objects as plain data. Fields that may hold a Pulumi Output (image references)
 * use the Pulumi Kubernetes input types; rendered without Pulumi they are plain strings.
 */
export interface NamespaceManifest {
  readonly apiVersion: "v1";
  readonly kind: "Namespace";
  readonly metadata: Metadata;
}

export interface ServiceAccountManifest {
  readonly apiVersion: "v1";
  readonly kind: "ServiceAccount";
  readonly metadata: Metadata;
  readonly automountServiceAccountToken: boolean;
  /** Secrets the kubelet may use to pull the images of this account's pods. */
  readonly imagePullSecrets?: { readonly name: string }[];
}

/** Registry credentials in the form `kubectl create secret docker-registry` writes. */
export interface DockerConfigSecretManifest {
  readonly apiVersion: "v1";
  readonly kind: "Secret";
  readonly metadata: Metadata;
  readonly type: "kubernetes.io/dockerconfigjson";
  readonly immutable?: boolean;
  /** `.dockerconfigjson`, base64-encoded as the API stores it; a Pulumi secret when deployed. */
  readonly data: { readonly ".dockerconfigjson": Input<string> };
}

/** A certificate and its key in the form `kubectl create secret tls` writes (plus `ca.crt`). */
export interface TlsSecretManifest {
  readonly apiVersion: "v1";
  readonly kind: "Secret";
  readonly metadata: Metadata;
  readonly type: "kubernetes.io/tls";
  /** `tls.crt`, `tls.key` and optionally `ca.crt`, base64-encoded; Pulumi secrets when deployed. */
  readonly data: Readonly<Record<string, Input<string>>>;
}

export interface ConfigMapManifest {
  readonly apiVersion: "v1";
  readonly kind: "ConfigMap";
  readonly metadata: Metadata;
  readonly immutable: boolean;
  readonly data: Readonly<Record<string, string>>;
}

export interface DeploymentManifest {
  readonly apiVersion: "apps/v1";
  readonly kind: "Deployment";
  readonly metadata: Metadata;
  readonly spec: apps.v1.DeploymentSpec;
}

export interface ServiceManifest {
  readonly apiVersion: "v1";
  readonly kind: "Service";
  readonly metadata: Metadata;
  readonly spec: core.v1.ServiceSpec;
}

export interface PodDisruptionBudgetManifest {
  readonly apiVersion: "policy/v1";
  readonly kind: "PodDisruptionBudget";
  readonly metadata: Metadata;
  readonly spec: policy.v1.PodDisruptionBudgetSpec;
}

export type Manifest =
  | NamespaceManifest
  | ServiceAccountManifest
  | DockerConfigSecretManifest
  | TlsSecretManifest
  | ConfigMapManifest
  | DeploymentManifest
  | ServiceManifest
  | PodDisruptionBudgetManifest;

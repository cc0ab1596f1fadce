/** Kubernetes recommended labels, from one place: selectors, pod templates and Services agree. */

export const PART_OF = "envoy-mesh";
export const MANAGED_BY = "pulumi";

export type Component = "service" | "front-proxy";

export type Labels = Readonly<Record<string, string>>;

/** Label of a version's pods; the selectors of a service with versions always include it. */
export const VERSION_LABEL = "app.kubernetes.io/version";

/**
 * The stable subset used in selectors (a Deployment's selector can never change). A version's
 * selector adds its version, so that it selects the pods of that version and no other.
 */
export function selectorLabels(name: string, version?: string): Labels {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF, ...(version !== undefined ? { [VERSION_LABEL]: version } : {}) };
}

export function meshLabels(name: string, component: Component, version?: string): Labels {
  return {
    ...selectorLabels(name, version),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": MANAGED_BY,
  };
}

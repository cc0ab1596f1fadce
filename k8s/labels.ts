/** Kubernetes recommended labels, from one place: selectors, pod templates and Services agree. */

export const PART_OF = "envoy-mesh";
export const MANAGED_BY = "pulumi";

export type Component = "service" | "front-proxy";

export type Labels = Readonly<Record<string, string>>;

/** The stable subset used in selectors (a Deployment's selector can never change). */
export function selectorLabels(name: string): Labels {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF };
}

export function meshLabels(name: string, component: Component): Labels {
  return {
    ...selectorLabels(name),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": MANAGED_BY,
  };
}

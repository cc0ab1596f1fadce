import type { StackSettings } from "../stack";

/**
 * Whether the stack turns the observability add-ons on (`envoy-mesh:observability.addons`).
 * Read through this one accessor so the settings' shape can change in one place; the parser
 * refuses the key on targets other than kind.
 */
export function observabilityAddonsOn(settings: StackSettings): boolean {
  return settings.observability.addons;
}

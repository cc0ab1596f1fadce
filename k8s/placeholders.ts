import { CA_FILE, CERTIFICATE_FILE, PRIVATE_KEY_FILE } from "../envoy/names";
import { PLACEHOLDER_ANNOTATION } from "./objects";
import { base64Data, type MeshSecretSources, type TlsSecretSource } from "./secrets";

/*
 * Stand-ins for certificates that only `pulumi up` holds: rendered output never carries key
 * material. The text is shaped like PEM so that a reader sees where each file goes, and is
 * plainly not a key: no PEM parser accepts the label, so nothing can mistake it for one.
 */

/** PEM-shaped placeholder text naming what `pulumi up` puts there instead. */
export function placeholderPem(what: string): string {
  return `-----BEGIN PLACEHOLDER-----\nnot a ${what}: pulumi up writes the real one\n-----END PLACEHOLDER-----\n`;
}

export const IDENTITY_PLACEHOLDER_NOTE =
  "the certificate, key and mesh CA are placeholders: pulumi up writes the real ones, issued by Pulumi and kept as secrets in its state";
export const EDGE_PLACEHOLDER_NOTE = "the edge certificate and key are placeholders: pulumi up writes the real ones from the stack's certificate sources";

/** One proxy's identity Secret data, marked as a placeholder. */
export function placeholderIdentity(): TlsSecretSource {
  return {
    data: {
      [CERTIFICATE_FILE]: base64Data(placeholderPem("certificate")),
      [PRIVATE_KEY_FILE]: base64Data(placeholderPem("private key")),
      [CA_FILE]: base64Data(placeholderPem("CA certificate")),
    },
    annotations: { [PLACEHOLDER_ANNOTATION]: IDENTITY_PLACEHOLDER_NOTE },
  };
}

/** The edge Secret data, marked as a placeholder. */
export function placeholderEdge(): TlsSecretSource {
  return {
    data: {
      [CERTIFICATE_FILE]: base64Data(placeholderPem("certificate")),
      [PRIVATE_KEY_FILE]: base64Data(placeholderPem("private key")),
    },
    annotations: { [PLACEHOLDER_ANNOTATION]: EDGE_PLACEHOLDER_NOTE },
  };
}

/** Every certificate as a marked placeholder (render, and builders given no real material). */
export const PLACEHOLDER_SECRET_SOURCES: MeshSecretSources = {
  identity: placeholderIdentity,
  edge: { kind: "data", ...placeholderEdge() },
};

import * as pulumi from "@pulumi/pulumi";
import { CA_FILE, CERTIFICATE_FILE, PRIVATE_KEY_FILE } from "../envoy/names";
import { base64Data, type EdgeSecretSource, type MeshSecretSources } from "../k8s";
import type { MeshCertificateSet } from "./certificates";

/** PEM text as a Secret's `data` holds it, kept a Pulumi secret (encrypted in the state, hidden in diffs). */
function secretData(pem: pulumi.Output<string>): pulumi.Output<string> {
  return pulumi.secret(pem.apply(base64Data));
}

/** What the Kubernetes builders put in each proxy's Secrets: the certificates Pulumi holds. */
export function secretSourcesOf(certificates: MeshCertificateSet): MeshSecretSources {
  const { edge } = certificates;
  const edgeSource: EdgeSecretSource | undefined =
    edge === undefined
      ? undefined
      : edge.kind === "secret"
        ? { kind: "existing", name: edge.name }
        : { kind: "data", data: { [CERTIFICATE_FILE]: secretData(edge.certificatePem), [PRIVATE_KEY_FILE]: secretData(edge.privateKeyPem) } };
  return {
    identity: (proxy) => {
      const identity = certificates.identities.get(proxy);
      if (identity === undefined) throw new Error(`no mesh certificate was issued for ${proxy}`);
      return {
        data: {
          [CERTIFICATE_FILE]: secretData(identity.certificatePem),
          [PRIVATE_KEY_FILE]: secretData(identity.privateKeyPem),
          [CA_FILE]: secretData(identity.caPem),
        },
      };
    },
    ...(edgeSource === undefined ? {} : { edge: edgeSource }),
  };
}

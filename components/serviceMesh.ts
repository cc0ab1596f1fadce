import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { envoyConfigProblems, type RenderedEnvoyConfig } from "../envoy/check";
import { checkSecretMounts } from "../checks/kubernetes/secret-mounts";
import { REGISTRY_PULL_SECRET_NAME, buildAnyServiceObjects, buildFrontObjects, buildNamespace, proxyManifests } from "../k8s";
import {
  describeTarget,
  envoyTargetOf,
  imageBuildPlans,
  isKubernetesStack,
  planFor,
  type ImageBuildPlan,
  type KubernetesStackSettings,
  type StackSettings,
} from "../stack";
import { deployDockerMesh, type DeployedMesh } from "./dockerMesh";
import { FRONT_PROXY_NAME, type MeshService as MeshServiceSpec } from "../topology";
import { ConfigError } from "../topology/reader";
import { faultWarning } from "../topology/edge";
import { AppImage } from "./appImage";
import type { MeshCertificateSet } from "./certificates";
import { secretSourcesOf } from "./certificateSecrets";
import { MeshCertificates, type ProvidedCertificates } from "./meshCertificates";
import { FrontProxy } from "./frontProxy";
import { MeshService, type ServiceEndpoint } from "./meshService";
import { createPullSecret, pullCredentialProblems } from "./pullSecret";
import { SERVICE_MESH_TYPE } from "./tokens";
import { ObservabilityAddons } from "./observabilityAddons";
import { addonConfigMapSizeProblems, buildObservabilityAddons, type ObservabilityAddons as BuiltAddons } from "../k8s/addons";
import { configMapSizeProblems, meshEnvoyConfig, renderMeshConfigs, type EnvoyConfigOutput } from "./liveConfig";

/** `ProvidedCertificates`: the stack's own CA and edge certificate (cloud); Pulumi issues what is not given. */
export interface ServiceMeshArgs extends ProvidedCertificates {
  /** Validated stack settings, topology included. */
  readonly settings: StackSettings;
  /** Root the image build contexts are relative to. */
  readonly projectDir: string;
  /** Tag of the images pushed (pods use the digest). */
  readonly imageTag: string;
  /** Registry password or token, as a Pulumi secret. Default: none. */
  readonly registryPassword?: pulumi.Input<string>;
}

/** Said once per deployment when `security.mtls` is off. */
export const MTLS_OFF_WARNING =
  "topology.security.mtls is off: traffic between the proxies is plain HTTP and every service accepts any caller. Use it for debugging only.";

export type { ServiceEndpoint } from "./meshService";

/**
 * The whole mesh on the stack's target: on Kubernetes one provider, the namespace, the app
 * images, a MeshService per service and the FrontProxy; on Docker one Docker provider, the
 * network, local images and a DockerMeshService per service and the DockerFrontProxy.
 * Everything below is registered through the provider created here, once.
 */
export class ServiceMesh extends pulumi.ComponentResource {
  readonly frontUrl: pulumi.Output<string>;
  readonly namespace: string;
  readonly services: Readonly<Record<string, ServiceEndpoint>>;
  /** When each certificate expires (RFC 3339), by identity (and `edge`). */
  readonly certificateExpiries: pulumi.Output<Record<string, string>>;
  /** The local edge CA's PEM, which clients trust (`curl --cacert`); undefined when the edge certificate is not Pulumi's. */
  readonly edgeCaCertificate?: pulumi.Output<string>;
  /**
   * Per proxy, the version of its bootstrap and of each xDS subscription (LDS, CDS, each RDS):
   * `pulumi preview` shows a change under `live` (files replaced, no restart) apart from one
   * under `bootstrap` (pods roll), and `npm run status` waits for every Envoy to report it.
   */
  readonly envoyConfig: pulumi.Output<EnvoyConfigOutput>;

  constructor(name: string, args: ServiceMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    const { settings } = args;
    // Envoy refuses a bad bootstrap and the container crash-loops; refuse it here, before anything is registered.
    // Rendered once, for the checks, the size limit and the envoyConfig output.
    const proxies = renderMeshConfigs(settings.topology, envoyTargetOf(settings));
    const problems = envoyConfigProblems(proxies.map((p) => p.rendered));
    if (problems.length > 0) throw new pulumi.RunError(new ConfigError(problems, "generated Envoy configs that Envoy would refuse").message);
    // A ConfigMap holds at most 1 MiB: name the proxy that is too large before the API server refuses it mid-update.
    const sizeProblems = isKubernetesStack(settings) ? configMapSizeProblems(proxies) : [];
    if (sizeProblems.length > 0) throw new pulumi.RunError(new ConfigError(sizeProblems, "Envoy configs too large for a Kubernetes ConfigMap").message);
    // The add-ons' ConfigMaps (dashboard, rules, tool configs) too, built once here and handed to ObservabilityAddons.
    const addons = isKubernetesStack(settings) && settings.observability.addons ? buildObservabilityAddons(settings.topology, settings.mesh) : undefined;
    const addonSizeProblems = addons === undefined ? [] : addonConfigMapSizeProblems(addons);
    if (addonSizeProblems.length > 0) throw new pulumi.RunError(new ConfigError(addonSizeProblems, "observability add-on configs too large for a Kubernetes ConfigMap").message);
    const credentialProblems = isKubernetesStack(settings) ? pullCredentialProblems(settings.registry, args.registryPassword) : [];
    if (credentialProblems.length > 0) {
      throw new pulumi.RunError(new ConfigError(credentialProblems, "incomplete registry credentials").message);
    }
    super(SERVICE_MESH_TYPE, name, {}, opts);
    if (settings.topology.security.mtls === "off") pulumi.log.warn(MTLS_OFF_WARNING, this);
    const faults = faultWarning(settings.topology);
    if (faults !== undefined) pulumi.log.warn(faults, this);
    const certificates = new MeshCertificates(
      `${name}-certificates`,
      {
        topology: settings.topology,
        namespace: envoyTargetOf(settings).namespace,
        sources: settings.certificates,
        caCertificatePem: args.caCertificatePem,
        caPrivateKeyPem: args.caPrivateKeyPem,
        edgeCertificatePem: args.edgeCertificatePem,
        edgePrivateKeyPem: args.edgePrivateKeyPem,
      },
      { parent: this },
    );
    // Each target's objects carry the configs just checked, byte for byte: nothing is built or serialized twice.
    const rendered = new Map(proxies.map((p) => [p.rendered.proxy, p.rendered]));
    const deployed = isKubernetesStack(settings)
      ? this.deployKubernetes(name, settings, args, certificates, rendered, addons)
      : deployDockerMesh(name, settings, args.projectDir, args.imageTag, this, certificates, rendered);
    this.frontUrl = deployed.frontUrl;
    this.namespace = deployed.namespace;
    this.services = deployed.services;
    this.certificateExpiries = certificates.expiries;
    this.edgeCaCertificate = certificates.edgeCaPem;
    this.envoyConfig = pulumi.output(meshEnvoyConfig(proxies));
    this.registerOutputs({
      frontUrl: this.frontUrl,
      namespace: this.namespace,
      services: this.services,
      certificateExpiries: this.certificateExpiries,
      edgeCaCertificate: this.edgeCaCertificate,
      envoyConfig: this.envoyConfig,
    });
  }

  /** One Kubernetes provider, the namespace, the pull Secret, pushed images, a MeshService per service and the FrontProxy. */
  private deployKubernetes(
    name: string,
    settings: KubernetesStackSettings,
    args: ServiceMeshArgs,
    certificates: MeshCertificateSet,
    rendered: ReadonlyMap<string, RenderedEnvoyConfig>,
    addons?: BuiltAddons,
  ): DeployedMesh {
    const { topology, mesh: target } = settings;
    const secretSources = secretSourcesOf(certificates);

    // enableConfigMapMutable: the provider updates a mutable ConfigMap's data in place instead of
    // replacing it (pulumi/pulumi-kubernetes provider/pkg/provider/forcenew.go), so the xDS
    // ConfigMap keeps its name and only its files change; the immutable, content-named bootstrap
    // ConfigMap is still replaced. Turning it on for an existing stack updates the provider, it
    // does not replace it: only a change of cluster does (provider.go, DiffConfig).
    const provider = new k8s.Provider(`${name}-${settings.target}`, { ...settings.provider, enableConfigMapMutable: true }, { parent: this });
    const childOpts = { parent: this, providers: { kubernetes: provider } };
    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, buildNamespace(target.namespace), { parent: this, provider });
    const pullSecret = createPullSecret(`${name}-registry`, target.namespace, settings.registry, args.registryPassword, {
      parent: this,
      provider,
      dependsOn: [namespace],
    });
    const pullSecretName = pullSecret === undefined ? undefined : REGISTRY_PULL_SECRET_NAME;
    // A ServiceAccount that names the Secret, and so every pod, waits for it.
    const proxyDependsOn = pullSecret === undefined ? [namespace] : [namespace, pullSecret];

    const plans = imageBuildPlans(topology, settings.registry.server, args.imageTag);
    const images = new Map(
      plans.map((plan) => [
        plan.key,
        new AppImage(
          `${name}-${plan.key}`,
          { plan, projectDir: args.projectDir, registry: settings.registry, registryPassword: args.registryPassword },
          { parent: this },
        ),
      ]),
    );
    const imageOf = (service: MeshServiceSpec): pulumi.Input<string> => {
      if (service.image.kind === "ref") return service.image.ref;
      return (images.get((planFor(service, plans) as ImageBuildPlan).key) as AppImage).ref;
    };

    const serviceObjects = topology.services.map((spec) => buildAnyServiceObjects(topology, spec, target, imageOf, pullSecretName, secretSources, rendered.get(spec.name)));
    const frontObjects = buildFrontObjects(topology, target, pullSecretName, secretSources, rendered.get(FRONT_PROXY_NAME));
    // Keys reach only their own identity's Envoy: refuse anything else before it is registered.
    const keyProblems = checkSecretMounts([frontObjects, ...serviceObjects].flatMap(proxyManifests));
    if (keyProblems.length > 0) {
      throw new pulumi.ResourceError(`key material mounted where it must not be:\n${keyProblems.map((f) => `  - ${f.object} ${f.path}: ${f.message} [${f.rule}]`).join("\n")}`, this);
    }

    const services: Record<string, ServiceEndpoint> = {};
    topology.services.forEach((spec, i) => {
      const component = new MeshService(
        spec.name,
        {
          spec,
          objects: serviceObjects[i],
          namespace: target.namespace,
          clusterDomain: target.clusterDomain,
          dependsOn: proxyDependsOn,
        },
        childOpts,
      );
      services[spec.name] = { ...component.dns, egressPorts: component.egressPorts };
    });

    const front = new FrontProxy(
      "front-envoy",
      {
        objects: frontObjects,
        fixedUrl: describeTarget(settings.target).fixedFrontUrl,
        dependsOn: proxyDependsOn,
      },
      childOpts,
    );
    // Opt-in (kind): the collector every Envoy sends its spans to, Jaeger, Prometheus and Grafana.
    if (settings.observability.addons) {
      new ObservabilityAddons(`${name}-observability`, { topology, target, meshNamespace: namespace, built: addons }, childOpts);
    }

    return { frontUrl: front.url, namespace: target.namespace, services };
  }
}

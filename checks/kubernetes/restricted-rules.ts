import type { PathSegment } from "./field-path";
import type { ContainerRef, PodContext } from "./pod-context";
import { asRecord, list, record } from "./pod-context";
import type { PolicyRule, Violation } from "./policy-rule";

/*
 * The Pod Security Standard "restricted" profile, which includes everything in "baseline", as
 * the upstream pod-security-admission checks define it (Kubernetes 1.33, plus the 1.34 probe
 * host control). Containers here means containers, initContainers and ephemeralContainers.
 */

const ALLOWED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const ALLOWED_SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
const CONFINED_PROFILE_TYPES = new Set(["RuntimeDefault", "Localhost"]);
const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

function securityContext(ref: ContainerRef): Readonly<Record<string, unknown>> {
  return record(ref.container, "securityContext");
}

function at(ref: ContainerRef, ...rest: PathSegment[]): readonly PathSegment[] {
  return [...ref.path, "securityContext", ...rest];
}

function podAt(pod: PodContext, ...rest: PathSegment[]): readonly PathSegment[] {
  return [...pod.specPath, ...rest];
}

/** Windows pods are exempt from the Linux-only restricted controls, as upstream does. */
function isWindows(pod: PodContext): boolean {
  return record(pod.spec, "os").name === "windows";
}

function perContainer(pod: PodContext, check: (ref: ContainerRef) => Violation[]): Violation[] {
  return pod.containers.flatMap(check);
}

const hostNamespaces: PolicyRule = {
  id: "restricted/host-namespaces",
  summary: "hostNetwork, hostPID and hostIPC are unset or false.",
  check: (pod) =>
    (
      [
        ["hostNetwork", "network"],
        ["hostPID", "process"],
        ["hostIPC", "IPC"],
      ] as const
    )
      .filter(([field]) => pod.spec[field] === true)
      .map(([field, namespace]) => ({
        path: podAt(pod, field),
        message: `the pod shares the node's ${namespace} namespace (${field}: true)`,
      })),
};

const privileged: PolicyRule = {
  id: "restricted/privileged",
  summary: "No container is privileged.",
  check: (pod) =>
    perContainer(pod, (ref) =>
      securityContext(ref).privileged === true
        ? [{ path: at(ref, "privileged"), message: `${ref.label} is privileged: it gets every device and capability of the node` }]
        : [],
    ),
};

const hostProcess: PolicyRule = {
  id: "restricted/host-process",
  summary: "No Windows HostProcess containers.",
  check: (pod) => {
    const violations: Violation[] = [];
    if (record(record(pod.spec, "securityContext"), "windowsOptions").hostProcess === true) {
      violations.push({
        path: podAt(pod, "securityContext", "windowsOptions", "hostProcess"),
        message: "the pod runs as a Windows HostProcess with full access to the node",
      });
    }
    return violations.concat(
      perContainer(pod, (ref) =>
        record(securityContext(ref), "windowsOptions").hostProcess === true
          ? [{ path: at(ref, "windowsOptions", "hostProcess"), message: `${ref.label} runs as a Windows HostProcess with full access to the node` }]
          : [],
      ),
    );
  },
};

/** The volume source a volume uses (`emptyDir`, `hostPath`, ...), if any. */
function volumeType(volume: Readonly<Record<string, unknown>>): string | undefined {
  return Object.keys(volume).find((key) => key !== "name");
}

function volumeLabel(volume: Readonly<Record<string, unknown>>, index: number): string {
  return typeof volume.name === "string" ? `volume ${JSON.stringify(volume.name)}` : `volumes[${index}]`;
}

const hostPathVolumes: PolicyRule = {
  id: "restricted/host-path-volumes",
  summary: "No hostPath volumes.",
  check: (pod) =>
    list(pod.spec, "volumes").flatMap((volume, index) =>
      asRecord(volume).hostPath === undefined
        ? []
        : [{ path: podAt(pod, "volumes", index, "hostPath"), message: `${volumeLabel(asRecord(volume), index)} mounts a directory of the node (hostPath)` }],
    ),
};

const volumeTypes: PolicyRule = {
  id: "restricted/volume-types",
  summary: `Volumes use only ${ALLOWED_VOLUME_TYPES.join(", ")}.`,
  check: (pod) =>
    list(pod.spec, "volumes").flatMap((volume, index) => {
      const entry = asRecord(volume);
      const type = volumeType(entry);
      // hostPath has its own rule; a volume without a source defaults to emptyDir.
      if (type === undefined || type === "hostPath" || ALLOWED_VOLUME_TYPES.includes(type)) {
        return [];
      }
      return [
        {
          path: podAt(pod, "volumes", index, type),
          message: `${volumeLabel(entry, index)} uses type ${type}; the restricted profile allows only ${ALLOWED_VOLUME_TYPES.join(", ")}`,
        },
      ];
    }),
};

const hostPorts: PolicyRule = {
  id: "restricted/host-ports",
  summary: "No container binds a hostPort.",
  check: (pod) =>
    perContainer(pod, (ref) =>
      list(ref.container, "ports").flatMap((port, index) => {
        const hostPort = asRecord(port).hostPort;
        return hostPort !== undefined && hostPort !== 0
          ? [{ path: [...ref.path, "ports", index, "hostPort"], message: `${ref.label} binds port ${String(hostPort)} on the node itself (hostPort)` }]
          : [];
      }),
    ),
};

const appArmor: PolicyRule = {
  id: "restricted/apparmor",
  summary: "AppArmor is not disabled: profile type RuntimeDefault or Localhost when set.",
  check: (pod) => {
    const violations: Violation[] = [];
    const podType = record(record(pod.spec, "securityContext"), "appArmorProfile").type;
    if (podType !== undefined && !CONFINED_PROFILE_TYPES.has(String(podType))) {
      violations.push({
        path: podAt(pod, "securityContext", "appArmorProfile", "type"),
        message: `the pod sets AppArmor profile ${JSON.stringify(podType)}, which lifts the runtime's confinement`,
      });
    }
    for (const ref of pod.containers) {
      const type = record(securityContext(ref), "appArmorProfile").type;
      if (type !== undefined && !CONFINED_PROFILE_TYPES.has(String(type))) {
        violations.push({
          path: at(ref, "appArmorProfile", "type"),
          message: `${ref.label} sets AppArmor profile ${JSON.stringify(type)}, which lifts the runtime's confinement`,
        });
      }
    }
    const annotations = record(pod.metadata, "annotations");
    for (const [key, value] of Object.entries(annotations)) {
      if (key.startsWith(APPARMOR_ANNOTATION_PREFIX) && value !== "runtime/default" && !String(value).startsWith("localhost/")) {
        violations.push({
          path: [...pod.metadataPath, "annotations", key],
          message: `AppArmor annotation sets profile ${JSON.stringify(value)}, which lifts the runtime's confinement`,
        });
      }
    }
    return violations;
  },
};

function seLinuxViolations(options: Readonly<Record<string, unknown>>, path: readonly PathSegment[], who: string): Violation[] {
  const violations: Violation[] = [];
  if (options.type !== undefined && !ALLOWED_SELINUX_TYPES.has(String(options.type))) {
    violations.push({ path: [...path, "type"], message: `${who} sets SELinux type ${JSON.stringify(options.type)} outside the container types` });
  }
  for (const field of ["user", "role"] as const) {
    if (typeof options[field] === "string" && options[field] !== "") {
      violations.push({ path: [...path, field], message: `${who} sets a custom SELinux ${field}` });
    }
  }
  return violations;
}

const seLinux: PolicyRule = {
  id: "restricted/selinux",
  summary: "SELinux options keep a container type and set no custom user or role.",
  check: (pod) => [
    ...seLinuxViolations(record(record(pod.spec, "securityContext"), "seLinuxOptions"), podAt(pod, "securityContext", "seLinuxOptions"), "the pod"),
    ...perContainer(pod, (ref) => seLinuxViolations(record(securityContext(ref), "seLinuxOptions"), at(ref, "seLinuxOptions"), ref.label)),
  ],
};

const procMount: PolicyRule = {
  id: "restricted/proc-mount",
  summary: "procMount is unset or Default.",
  check: (pod) =>
    perContainer(pod, (ref) => {
      const value = securityContext(ref).procMount;
      return value !== undefined && value !== "Default"
        ? [{ path: at(ref, "procMount"), message: `${ref.label} sets procMount ${JSON.stringify(value)}, which unmasks /proc paths of the node` }]
        : [];
    }),
};

const sysctls: PolicyRule = {
  id: "restricted/sysctls",
  summary: "Only namespaced, safe sysctls.",
  check: (pod) =>
    list(record(pod.spec, "securityContext"), "sysctls").flatMap((sysctl, index) => {
      const name = asRecord(sysctl).name;
      return SAFE_SYSCTLS.has(String(name))
        ? []
        : [{ path: podAt(pod, "securityContext", "sysctls", index, "name"), message: `sysctl ${JSON.stringify(name)} is not in the safe set and can affect the whole node` }];
    }),
};

function handlerHosts(handler: Readonly<Record<string, unknown>>, path: readonly PathSegment[]): { path: readonly PathSegment[]; host: unknown }[] {
  return (["httpGet", "tcpSocket"] as const)
    .map((action) => ({ path: [...path, action, "host"], host: record(handler, action).host }))
    .filter(({ host }) => typeof host === "string" && host !== "");
}

const probeHost: PolicyRule = {
  id: "restricted/probe-host",
  summary: "Probes and lifecycle hooks do not set a host (they target the pod itself).",
  check: (pod) =>
    perContainer(pod, (ref) => {
      const targets = [
        ...(["livenessProbe", "readinessProbe", "startupProbe"] as const).flatMap((probe) => handlerHosts(record(ref.container, probe), [...ref.path, probe])),
        ...(["postStart", "preStop"] as const).flatMap((hook) =>
          handlerHosts(record(record(ref.container, "lifecycle"), hook), [...ref.path, "lifecycle", hook]),
        ),
      ];
      return targets.map(({ path, host }) => ({
        path,
        message: `${ref.label} sends a probe or hook to host ${JSON.stringify(host)}, so the kubelet can be used to reach other addresses`,
      }));
    }),
};

const allowPrivilegeEscalation: PolicyRule = {
  id: "restricted/allow-privilege-escalation",
  summary: "Every container sets allowPrivilegeEscalation: false.",
  check: (pod) =>
    isWindows(pod)
      ? []
      : perContainer(pod, (ref) =>
          securityContext(ref).allowPrivilegeEscalation === false
            ? []
            : [
                {
                  path: at(ref, "allowPrivilegeEscalation"),
                  message: `${ref.label} does not set allowPrivilegeEscalation: false, so setuid binaries can gain privileges`,
                },
              ],
        ),
};

const runAsNonRoot: PolicyRule = {
  id: "restricted/run-as-non-root",
  summary: "runAsNonRoot is true on the pod or on every container, and false nowhere.",
  check: (pod) => {
    const violations: Violation[] = [];
    const podValue = record(pod.spec, "securityContext").runAsNonRoot;
    if (podValue === false) {
      violations.push({ path: podAt(pod, "securityContext", "runAsNonRoot"), message: "the pod sets runAsNonRoot: false, so its containers may run as root" });
    }
    for (const ref of pod.containers) {
      const value = securityContext(ref).runAsNonRoot;
      if (value === false) {
        violations.push({ path: at(ref, "runAsNonRoot"), message: `${ref.label} sets runAsNonRoot: false, so it may run as root` });
      } else if (value !== true && podValue !== true) {
        violations.push({
          path: at(ref, "runAsNonRoot"),
          message: `${ref.label} may run as root: neither it nor the pod sets runAsNonRoot: true`,
        });
      }
    }
    return violations;
  },
};

const runAsUser: PolicyRule = {
  id: "restricted/run-as-user",
  summary: "runAsUser is never 0 (root).",
  check: (pod) => {
    const violations: Violation[] = [];
    if (record(pod.spec, "securityContext").runAsUser === 0) {
      violations.push({ path: podAt(pod, "securityContext", "runAsUser"), message: "the pod runs its containers as UID 0 (root)" });
    }
    return violations.concat(
      perContainer(pod, (ref) =>
        securityContext(ref).runAsUser === 0 ? [{ path: at(ref, "runAsUser"), message: `${ref.label} runs as UID 0 (root)` }] : [],
      ),
    );
  },
};

const seccomp: PolicyRule = {
  id: "restricted/seccomp",
  summary: "seccompProfile.type is RuntimeDefault or Localhost, on the pod or on every container.",
  check: (pod) => {
    if (isWindows(pod)) {
      return [];
    }
    const violations: Violation[] = [];
    const podProfile = record(pod.spec, "securityContext").seccompProfile;
    const podType = asRecord(podProfile).type;
    const podConfined = CONFINED_PROFILE_TYPES.has(String(podType));
    if (podProfile !== undefined && !podConfined) {
      violations.push({
        path: podAt(pod, "securityContext", "seccompProfile", "type"),
        message: `the pod sets seccomp profile ${JSON.stringify(podType ?? null)}; without RuntimeDefault or Localhost every syscall is allowed`,
      });
    }
    for (const ref of pod.containers) {
      const profile = securityContext(ref).seccompProfile;
      const type = asRecord(profile).type;
      if (profile !== undefined && !CONFINED_PROFILE_TYPES.has(String(type))) {
        violations.push({
          path: at(ref, "seccompProfile", "type"),
          message: `${ref.label} sets seccomp profile ${JSON.stringify(type ?? null)}; without RuntimeDefault or Localhost every syscall is allowed`,
        });
      } else if (profile === undefined && !podConfined) {
        violations.push({
          path: at(ref, "seccompProfile"),
          message: `${ref.label} runs without a seccomp profile (set seccompProfile.type RuntimeDefault on the pod or the container), so every syscall is allowed`,
        });
      }
    }
    return violations;
  },
};

const capabilitiesDropAll: PolicyRule = {
  id: "restricted/capabilities-drop-all",
  summary: 'Every container drops "ALL" capabilities.',
  check: (pod) =>
    isWindows(pod)
      ? []
      : perContainer(pod, (ref) =>
          list(record(securityContext(ref), "capabilities"), "drop").includes("ALL")
            ? []
            : [
                {
                  path: at(ref, "capabilities", "drop"),
                  message: `${ref.label} keeps the runtime's default Linux capabilities: capabilities.drop does not include "ALL"`,
                },
              ],
        ),
};

const capabilitiesAdd: PolicyRule = {
  id: "restricted/capabilities-add",
  summary: "Containers add no capability other than NET_BIND_SERVICE.",
  check: (pod) =>
    isWindows(pod)
      ? []
      : perContainer(pod, (ref) =>
          list(record(securityContext(ref), "capabilities"), "add").flatMap((capability, index) =>
            capability === "NET_BIND_SERVICE"
              ? []
              : [
                  {
                    path: at(ref, "capabilities", "add", index),
                    message: `${ref.label} adds capability ${JSON.stringify(capability)}; the restricted profile allows only NET_BIND_SERVICE`,
                  },
                ],
          ),
        ),
};

/** Every control of the restricted profile, baseline controls included, in the upstream order. */
export const restrictedRules: readonly PolicyRule[] = [
  hostProcess,
  hostNamespaces,
  privileged,
  capabilitiesAdd,
  hostPathVolumes,
  hostPorts,
  appArmor,
  seLinux,
  procMount,
  seccomp,
  sysctls,
  probeHost,
  volumeTypes,
  allowPrivilegeEscalation,
  runAsNonRoot,
  runAsUser,
  capabilitiesDropAll,
];

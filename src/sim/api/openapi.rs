//! OpenAPI v3: the `/openapi/v3` index and one document per group/version.
//!
//! kubectl 1.32 reads these for `apply`:
//! - the query-parameter verifier looks for the PATCH operation tagged with the object's
//!   `x-kubernetes-group-version-kind`; when it lists `fieldValidation`, kubectl sends
//!   `fieldValidation=Strict` and skips client-side validation;
//! - client-side apply of a built-in kind computes a strategic merge patch from the component
//!   schema carrying the kind's GVK (an array, as in Kubernetes), following `$ref`s and reading
//!   `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy` on list and struct fields.
//!   That lookup fails on any map or list field the schema does not declare, so the built-in
//!   schemas below declare the fields of the kinds served, nested types included.
//!
//! Custom resources get permissive schemas (`x-kubernetes-preserve-unknown-fields`) and PATCH
//! operations without the strategic merge content type, so kubectl sends merge patches.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::registry::{Registry, ResourceType};

const REF: &str = "#/components/schemas/";
const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// Short prefixes used in the schema table below.
fn expand(short: &str) -> String {
    let (prefix, rest) = short.split_once('.').unwrap_or(("", short));
    let full = match prefix {
        "meta" => META,
        "core" => "io.k8s.api.core.v1",
        "apps" => "io.k8s.api.apps.v1",
        "batch" => "io.k8s.api.batch.v1",
        "policy" => "io.k8s.api.policy.v1",
        "net" => "io.k8s.api.networking.v1",
        "rbac" => "io.k8s.api.rbac.v1",
        "coord" => "io.k8s.api.coordination.v1",
        "events" => "io.k8s.api.events.v1",
        "ext" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
        "as" => "io.k8s.api.autoscaling.v1",
        "intstr" => "io.k8s.apimachinery.pkg.util.intstr",
        "res" => "io.k8s.apimachinery.pkg.api.resource",
        _ => return short.to_string(),
    };
    format!("{full}.{rest}")
}

/// The schema-name prefix of a built-in group's types.
fn builtin_prefix(group: &str) -> Option<&'static str> {
    Some(match group {
        "" => "core",
        "apps" => "apps",
        "batch" => "batch",
        "policy" => "policy",
        "networking.k8s.io" => "net",
        "rbac.authorization.k8s.io" => "rbac",
        "coordination.k8s.io" => "coord",
        "events.k8s.io" => "events",
        "apiextensions.k8s.io" => "ext",
        "autoscaling" => "as",
        _ => return None,
    })
}

/// The built-in object schemas, one per line: `Name: field:type[/mergeKey[/strategy]] ...`.
/// Types: `s` string, `i` int32, `l` int64, `b` boolean, `n` number, `byte` base64 string,
/// `o` free-form object, `m` map of strings, `mb` map of base64 strings, `mq` map of
/// quantities, `q` quantity, `ios` int-or-string, `t` / `mt` times, `@Name` a reference,
/// `[T]` a list, `{T}` a map. `+obj` stands for `apiVersion`, `kind` and `metadata`.
/// Continuation lines start with whitespace.
const SCHEMAS: &str = r#"
meta.ObjectMeta: name:s generateName:s namespace:s selfLink:s uid:s resourceVersion:s generation:l
  creationTimestamp:t deletionTimestamp:t deletionGracePeriodSeconds:l labels:m annotations:m
  ownerReferences:[@meta.OwnerReference]/uid/merge finalizers:[s]//merge
  managedFields:[@meta.ManagedFieldsEntry]
meta.OwnerReference: apiVersion:s kind:s name:s uid:s controller:b blockOwnerDeletion:b
meta.ManagedFieldsEntry: manager:s operation:s apiVersion:s time:t fieldsType:s
  fieldsV1:@meta.FieldsV1 subresource:s
meta.ListMeta: selfLink:s resourceVersion:s continue:s remainingItemCount:l
meta.LabelSelector: matchLabels:m matchExpressions:[@meta.LabelSelectorRequirement]
meta.LabelSelectorRequirement: key:s operator:s values:[s]
meta.Condition: type:s status:s observedGeneration:l lastTransitionTime:t reason:s message:s
meta.Status: apiVersion:s kind:s metadata:@meta.ListMeta status:s message:s reason:s
  details:@meta.StatusDetails code:i
meta.StatusDetails: name:s group:s kind:s uid:s causes:[@meta.StatusCause] retryAfterSeconds:i
meta.StatusCause: reason:s message:s field:s
meta.DeleteOptions: apiVersion:s kind:s gracePeriodSeconds:l preconditions:@meta.Preconditions
  orphanDependents:b propagationPolicy:s dryRun:[s]
  ignoreStoreReadErrorWithClusterBreakingPotential:b
meta.Preconditions: uid:s resourceVersion:s

core.Pod: +obj spec:@core.PodSpec status:@core.PodStatus
core.Binding: +obj target:@core.ObjectReference
core.PodTemplateSpec: metadata:@meta.ObjectMeta spec:@core.PodSpec
core.PodSpec: volumes:[@core.Volume]/name/merge,retainKeys
  initContainers:[@core.Container]/name/merge containers:[@core.Container]/name/merge
  ephemeralContainers:[@core.EphemeralContainer]/name/merge restartPolicy:s
  terminationGracePeriodSeconds:l activeDeadlineSeconds:l dnsPolicy:s nodeSelector:m
  serviceAccountName:s serviceAccount:s automountServiceAccountToken:b nodeName:s
  hostNetwork:b hostPID:b hostIPC:b shareProcessNamespace:b
  securityContext:@core.PodSecurityContext
  imagePullSecrets:[@core.LocalObjectReference]/name/merge hostname:s subdomain:s
  affinity:@core.Affinity schedulerName:s tolerations:[@core.Toleration]
  hostAliases:[@core.HostAlias]/ip/merge priorityClassName:s priority:i
  dnsConfig:@core.PodDNSConfig readinessGates:[@core.PodReadinessGate] runtimeClassName:s
  enableServiceLinks:b preemptionPolicy:s overhead:mq
  topologySpreadConstraints:[@core.TopologySpreadConstraint]/topologyKey/merge
  setHostnameAsFQDN:b os:@core.PodOS hostUsers:b
  schedulingGates:[@core.PodSchedulingGate]/name/merge
  resourceClaims:[@core.PodResourceClaim]/name/merge,retainKeys
  resources:@core.ResourceRequirements
core.Container: name:s image:s command:[s] args:[s] workingDir:s
  ports:[@core.ContainerPort]/containerPort/merge envFrom:[@core.EnvFromSource]
  env:[@core.EnvVar]/name/merge resources:@core.ResourceRequirements
  resizePolicy:[@core.ContainerResizePolicy] restartPolicy:s
  volumeMounts:[@core.VolumeMount]/mountPath/merge
  volumeDevices:[@core.VolumeDevice]/devicePath/merge livenessProbe:@core.Probe
  readinessProbe:@core.Probe startupProbe:@core.Probe lifecycle:@core.Lifecycle
  terminationMessagePath:s terminationMessagePolicy:s imagePullPolicy:s
  securityContext:@core.SecurityContext stdin:b stdinOnce:b tty:b
core.EphemeralContainer: name:s image:s command:[s] args:[s] workingDir:s
  ports:[@core.ContainerPort]/containerPort/merge envFrom:[@core.EnvFromSource]
  env:[@core.EnvVar]/name/merge resources:@core.ResourceRequirements
  resizePolicy:[@core.ContainerResizePolicy] restartPolicy:s
  volumeMounts:[@core.VolumeMount]/mountPath/merge
  volumeDevices:[@core.VolumeDevice]/devicePath/merge livenessProbe:@core.Probe
  readinessProbe:@core.Probe startupProbe:@core.Probe lifecycle:@core.Lifecycle
  terminationMessagePath:s terminationMessagePolicy:s imagePullPolicy:s
  securityContext:@core.SecurityContext stdin:b stdinOnce:b tty:b targetContainerName:s
core.ContainerPort: name:s hostPort:i containerPort:i protocol:s hostIP:s
core.EnvVar: name:s value:s valueFrom:@core.EnvVarSource
core.EnvVarSource: fieldRef:@core.ObjectFieldSelector resourceFieldRef:@core.ResourceFieldSelector
  configMapKeyRef:@core.ConfigMapKeySelector secretKeyRef:@core.SecretKeySelector
core.ObjectFieldSelector: apiVersion:s fieldPath:s
core.ResourceFieldSelector: containerName:s resource:s divisor:q
core.ConfigMapKeySelector: name:s key:s optional:b
core.SecretKeySelector: name:s key:s optional:b
core.EnvFromSource: prefix:s configMapRef:@core.ConfigMapEnvSource secretRef:@core.SecretEnvSource
core.ConfigMapEnvSource: name:s optional:b
core.SecretEnvSource: name:s optional:b
core.ResourceRequirements: limits:mq requests:mq claims:[@core.ResourceClaim]
core.ResourceClaim: name:s request:s
core.ContainerResizePolicy: resourceName:s restartPolicy:s
core.VolumeMount: name:s readOnly:b recursiveReadOnly:s mountPath:s subPath:s
  mountPropagation:s subPathExpr:s
core.VolumeDevice: name:s devicePath:s
core.Probe: exec:@core.ExecAction httpGet:@core.HTTPGetAction tcpSocket:@core.TCPSocketAction
  grpc:@core.GRPCAction initialDelaySeconds:i timeoutSeconds:i periodSeconds:i
  successThreshold:i failureThreshold:i terminationGracePeriodSeconds:l
core.ExecAction: command:[s]
core.HTTPGetAction: path:s port:ios host:s scheme:s httpHeaders:[@core.HTTPHeader]
core.HTTPHeader: name:s value:s
core.TCPSocketAction: port:ios host:s
core.GRPCAction: port:i service:s
core.Lifecycle: postStart:@core.LifecycleHandler preStop:@core.LifecycleHandler stopSignal:s
core.LifecycleHandler: exec:@core.ExecAction httpGet:@core.HTTPGetAction
  tcpSocket:@core.TCPSocketAction sleep:@core.SleepAction
core.SleepAction: seconds:l
core.SecurityContext: capabilities:@core.Capabilities privileged:b
  seLinuxOptions:@core.SELinuxOptions windowsOptions:@core.WindowsSecurityContextOptions
  runAsUser:l runAsGroup:l runAsNonRoot:b readOnlyRootFilesystem:b
  allowPrivilegeEscalation:b procMount:s seccompProfile:@core.SeccompProfile
  appArmorProfile:@core.AppArmorProfile
core.Capabilities: add:[s] drop:[s]
core.SELinuxOptions: user:s role:s type:s level:s
core.WindowsSecurityContextOptions: gmsaCredentialSpecName:s gmsaCredentialSpec:s
  runAsUserName:s hostProcess:b
core.SeccompProfile: type:s localhostProfile:s
core.AppArmorProfile: type:s localhostProfile:s
core.PodSecurityContext: seLinuxOptions:@core.SELinuxOptions
  windowsOptions:@core.WindowsSecurityContextOptions runAsUser:l runAsGroup:l runAsNonRoot:b
  supplementalGroups:[l] supplementalGroupsPolicy:s fsGroup:l sysctls:[@core.Sysctl]
  fsGroupChangePolicy:s seccompProfile:@core.SeccompProfile
  appArmorProfile:@core.AppArmorProfile seLinuxChangePolicy:s
core.Sysctl: name:s value:s
core.LocalObjectReference: name:s
core.Affinity: nodeAffinity:@core.NodeAffinity podAffinity:@core.PodAffinity
  podAntiAffinity:@core.PodAntiAffinity
core.NodeAffinity: requiredDuringSchedulingIgnoredDuringExecution:@core.NodeSelector
  preferredDuringSchedulingIgnoredDuringExecution:[@core.PreferredSchedulingTerm]
core.NodeSelector: nodeSelectorTerms:[@core.NodeSelectorTerm]
core.NodeSelectorTerm: matchExpressions:[@core.NodeSelectorRequirement]
  matchFields:[@core.NodeSelectorRequirement]
core.NodeSelectorRequirement: key:s operator:s values:[s]
core.PreferredSchedulingTerm: weight:i preference:@core.NodeSelectorTerm
core.PodAffinity: requiredDuringSchedulingIgnoredDuringExecution:[@core.PodAffinityTerm]
  preferredDuringSchedulingIgnoredDuringExecution:[@core.WeightedPodAffinityTerm]
core.PodAntiAffinity: requiredDuringSchedulingIgnoredDuringExecution:[@core.PodAffinityTerm]
  preferredDuringSchedulingIgnoredDuringExecution:[@core.WeightedPodAffinityTerm]
core.PodAffinityTerm: labelSelector:@meta.LabelSelector namespaces:[s] topologyKey:s
  namespaceSelector:@meta.LabelSelector matchLabelKeys:[s] mismatchLabelKeys:[s]
core.WeightedPodAffinityTerm: weight:i podAffinityTerm:@core.PodAffinityTerm
core.Toleration: key:s operator:s value:s effect:s tolerationSeconds:l
core.HostAlias: ip:s hostnames:[s]
core.PodDNSConfig: nameservers:[s] searches:[s] options:[@core.PodDNSConfigOption]
core.PodDNSConfigOption: name:s value:s
core.PodReadinessGate: conditionType:s
core.TopologySpreadConstraint: maxSkew:i topologyKey:s whenUnsatisfiable:s
  labelSelector:@meta.LabelSelector minDomains:i nodeAffinityPolicy:s nodeTaintsPolicy:s
  matchLabelKeys:[s]
core.PodOS: name:s
core.PodSchedulingGate: name:s
core.PodResourceClaim: name:s resourceClaimName:s resourceClaimTemplateName:s
core.Volume: name:s hostPath:@core.HostPathVolumeSource emptyDir:@core.EmptyDirVolumeSource
  secret:@core.SecretVolumeSource nfs:@core.NFSVolumeSource
  persistentVolumeClaim:@core.PersistentVolumeClaimVolumeSource
  downwardAPI:@core.DownwardAPIVolumeSource configMap:@core.ConfigMapVolumeSource
  csi:@core.CSIVolumeSource ephemeral:@core.EphemeralVolumeSource
  projected:@core.ProjectedVolumeSource image:@core.ImageVolumeSource
core.HostPathVolumeSource: path:s type:s
core.EmptyDirVolumeSource: medium:s sizeLimit:q
core.SecretVolumeSource: secretName:s items:[@core.KeyToPath] defaultMode:i optional:b
core.KeyToPath: key:s path:s mode:i
core.NFSVolumeSource: server:s path:s readOnly:b
core.PersistentVolumeClaimVolumeSource: claimName:s readOnly:b
core.DownwardAPIVolumeSource: items:[@core.DownwardAPIVolumeFile] defaultMode:i
core.DownwardAPIVolumeFile: path:s fieldRef:@core.ObjectFieldSelector
  resourceFieldRef:@core.ResourceFieldSelector mode:i
core.ConfigMapVolumeSource: name:s items:[@core.KeyToPath] defaultMode:i optional:b
core.CSIVolumeSource: driver:s readOnly:b fsType:s volumeAttributes:m
  nodePublishSecretRef:@core.LocalObjectReference
core.EphemeralVolumeSource: volumeClaimTemplate:@core.PersistentVolumeClaimTemplate
core.PersistentVolumeClaimTemplate: metadata:@meta.ObjectMeta spec:@core.PersistentVolumeClaimSpec
core.ProjectedVolumeSource: sources:[@core.VolumeProjection] defaultMode:i
core.VolumeProjection: secret:@core.SecretProjection downwardAPI:@core.DownwardAPIProjection
  configMap:@core.ConfigMapProjection serviceAccountToken:@core.ServiceAccountTokenProjection
  clusterTrustBundle:@core.ClusterTrustBundleProjection
core.SecretProjection: name:s items:[@core.KeyToPath] optional:b
core.ConfigMapProjection: name:s items:[@core.KeyToPath] optional:b
core.DownwardAPIProjection: items:[@core.DownwardAPIVolumeFile]
core.ServiceAccountTokenProjection: audience:s expirationSeconds:l path:s
core.ClusterTrustBundleProjection: name:s signerName:s labelSelector:@meta.LabelSelector
  optional:b path:s
core.ImageVolumeSource: reference:s pullPolicy:s
core.PodStatus: phase:s conditions:[@core.PodCondition]/type/merge message:s reason:s
  nominatedNodeName:s hostIP:s hostIPs:[@core.HostIP]/ip/merge podIP:s
  podIPs:[@core.PodIP]/ip/merge startTime:t initContainerStatuses:[@core.ContainerStatus]
  containerStatuses:[@core.ContainerStatus] qosClass:s
  ephemeralContainerStatuses:[@core.ContainerStatus] resize:s observedGeneration:l
core.PodCondition: type:s status:s observedGeneration:l lastProbeTime:t lastTransitionTime:t
  reason:s message:s
core.HostIP: ip:s
core.PodIP: ip:s
core.ContainerStatus: name:s state:@core.ContainerState lastState:@core.ContainerState ready:b
  restartCount:i image:s imageID:s containerID:s started:b allocatedResources:mq
  resources:@core.ResourceRequirements
  volumeMounts:[@core.VolumeMountStatus]/mountPath/merge user:o stopSignal:s
core.VolumeMountStatus: name:s mountPath:s readOnly:b recursiveReadOnly:s
core.ContainerState: waiting:@core.ContainerStateWaiting running:@core.ContainerStateRunning
  terminated:@core.ContainerStateTerminated
core.ContainerStateWaiting: reason:s message:s
core.ContainerStateRunning: startedAt:t
core.ContainerStateTerminated: exitCode:i signal:i reason:s message:s startedAt:t
  finishedAt:t containerID:s
core.Namespace: +obj spec:@core.NamespaceSpec status:@core.NamespaceStatus
core.NamespaceSpec: finalizers:[s]
core.NamespaceStatus: phase:s conditions:[@core.NamespaceCondition]/type/merge
core.NamespaceCondition: type:s status:s lastTransitionTime:t reason:s message:s
core.Node: +obj spec:@core.NodeSpec status:@core.NodeStatus
core.NodeSpec: podCIDR:s podCIDRs:[s]//merge providerID:s unschedulable:b
  taints:[@core.Taint] configSource:o externalID:s
core.Taint: key:s value:s effect:s timeAdded:t
core.NodeStatus: capacity:mq allocatable:mq phase:s
  conditions:[@core.NodeCondition]/type/merge addresses:[@core.NodeAddress]/type/merge
  daemonEndpoints:o nodeInfo:@core.NodeSystemInfo images:[@core.ContainerImage]
  volumesInUse:[s] volumesAttached:[o] config:o runtimeHandlers:[o] features:o
core.NodeCondition: type:s status:s lastHeartbeatTime:t lastTransitionTime:t reason:s message:s
core.NodeAddress: type:s address:s
core.NodeSystemInfo: machineID:s systemUUID:s bootID:s kernelVersion:s osImage:s
  containerRuntimeVersion:s kubeletVersion:s kubeProxyVersion:s operatingSystem:s
  architecture:s
core.ContainerImage: names:[s] sizeBytes:l
core.Event: +obj involvedObject:@core.ObjectReference reason:s message:s
  source:@core.EventSource firstTimestamp:t lastTimestamp:t count:i type:s eventTime:mt
  series:@core.EventSeries action:s related:@core.ObjectReference reportingComponent:s
  reportingInstance:s
core.ObjectReference: kind:s namespace:s name:s uid:s apiVersion:s resourceVersion:s fieldPath:s
core.EventSource: component:s host:s
core.EventSeries: count:i lastObservedTime:mt
core.Secret: +obj immutable:b data:mb stringData:m type:s
core.ConfigMap: +obj immutable:b data:m binaryData:mb
core.Service: +obj spec:@core.ServiceSpec status:@core.ServiceStatus
core.ServiceSpec: ports:[@core.ServicePort]/port/merge selector:m clusterIP:s clusterIPs:[s]
  type:s externalIPs:[s] sessionAffinity:s loadBalancerIP:s loadBalancerSourceRanges:[s]
  externalName:s externalTrafficPolicy:s healthCheckNodePort:i publishNotReadyAddresses:b
  sessionAffinityConfig:@core.SessionAffinityConfig ipFamilies:[s] ipFamilyPolicy:s
  allocateLoadBalancerNodePorts:b loadBalancerClass:s internalTrafficPolicy:s
  trafficDistribution:s
core.ServicePort: name:s protocol:s appProtocol:s port:i targetPort:ios nodePort:i
core.SessionAffinityConfig: clientIP:@core.ClientIPConfig
core.ClientIPConfig: timeoutSeconds:i
core.ServiceStatus: loadBalancer:@core.LoadBalancerStatus conditions:[@meta.Condition]/type/merge
core.LoadBalancerStatus: ingress:[@core.LoadBalancerIngress]
core.LoadBalancerIngress: ip:s hostname:s ipMode:s ports:[@core.PortStatus]
core.PortStatus: port:i protocol:s error:s
core.PersistentVolumeClaim: +obj spec:@core.PersistentVolumeClaimSpec
  status:@core.PersistentVolumeClaimStatus
core.PersistentVolumeClaimSpec: accessModes:[s] selector:@meta.LabelSelector
  resources:@core.VolumeResourceRequirements volumeName:s storageClassName:s volumeMode:s
  dataSource:@core.TypedLocalObjectReference dataSourceRef:@core.TypedObjectReference
  volumeAttributesClassName:s
core.VolumeResourceRequirements: limits:mq requests:mq
core.TypedLocalObjectReference: apiGroup:s kind:s name:s
core.TypedObjectReference: apiGroup:s kind:s name:s namespace:s
core.PersistentVolumeClaimStatus: phase:s accessModes:[s] capacity:mq
  conditions:[@core.PersistentVolumeClaimCondition]/type/merge allocatedResources:mq
  allocatedResourceStatuses:m currentVolumeAttributesClassName:s modifyVolumeStatus:o
core.PersistentVolumeClaimCondition: type:s status:s lastProbeTime:t lastTransitionTime:t
  reason:s message:s
core.LimitRange: +obj spec:@core.LimitRangeSpec
core.LimitRangeSpec: limits:[@core.LimitRangeItem]
core.LimitRangeItem: type:s max:mq min:mq default:mq defaultRequest:mq maxLimitRequestRatio:mq
core.ServiceAccount: +obj secrets:[@core.ObjectReference]/name/merge
  imagePullSecrets:[@core.LocalObjectReference] automountServiceAccountToken:b

policy.Eviction: +obj deleteOptions:@meta.DeleteOptions
policy.PodDisruptionBudget: +obj spec:@policy.PodDisruptionBudgetSpec
  status:@policy.PodDisruptionBudgetStatus
policy.PodDisruptionBudgetSpec: minAvailable:ios selector:@meta.LabelSelector//replace
  maxUnavailable:ios unhealthyPodEvictionPolicy:s
policy.PodDisruptionBudgetStatus: observedGeneration:l disruptedPods:{t} disruptionsAllowed:i
  currentHealthy:i desiredHealthy:i expectedPods:i conditions:[@meta.Condition]/type/merge

as.Scale: +obj spec:@as.ScaleSpec status:@as.ScaleStatus
as.ScaleSpec: replicas:i
as.ScaleStatus: replicas:i selector:s

apps.Deployment: +obj spec:@apps.DeploymentSpec status:@apps.DeploymentStatus
apps.DeploymentSpec: replicas:i selector:@meta.LabelSelector template:@core.PodTemplateSpec
  strategy:@apps.DeploymentStrategy//retainKeys minReadySeconds:i revisionHistoryLimit:i
  paused:b progressDeadlineSeconds:i
apps.DeploymentStrategy: type:s rollingUpdate:@apps.RollingUpdateDeployment
apps.RollingUpdateDeployment: maxUnavailable:ios maxSurge:ios
apps.DeploymentStatus: observedGeneration:l replicas:i updatedReplicas:i readyReplicas:i
  availableReplicas:i unavailableReplicas:i terminatingReplicas:i
  conditions:[@apps.DeploymentCondition]/type/merge collisionCount:i
apps.DeploymentCondition: type:s status:s lastUpdateTime:t lastTransitionTime:t reason:s message:s
apps.ReplicaSet: +obj spec:@apps.ReplicaSetSpec status:@apps.ReplicaSetStatus
apps.ReplicaSetSpec: replicas:i minReadySeconds:i selector:@meta.LabelSelector
  template:@core.PodTemplateSpec
apps.ReplicaSetStatus: replicas:i fullyLabeledReplicas:i readyReplicas:i availableReplicas:i
  terminatingReplicas:i observedGeneration:l conditions:[@apps.ReplicaSetCondition]/type/merge
apps.ReplicaSetCondition: type:s status:s lastTransitionTime:t reason:s message:s

batch.Job: +obj spec:@batch.JobSpec status:@batch.JobStatus
batch.JobSpec: parallelism:i completions:i activeDeadlineSeconds:l
  podFailurePolicy:@batch.PodFailurePolicy successPolicy:@batch.SuccessPolicy backoffLimit:i
  backoffLimitPerIndex:i maxFailedIndexes:i selector:@meta.LabelSelector manualSelector:b
  template:@core.PodTemplateSpec ttlSecondsAfterFinished:i completionMode:s suspend:b
  podReplacementPolicy:s managedBy:s
batch.PodFailurePolicy: rules:[@batch.PodFailurePolicyRule]
batch.PodFailurePolicyRule: action:s onExitCodes:@batch.PodFailurePolicyOnExitCodesRequirement
  onPodConditions:[@batch.PodFailurePolicyOnPodConditionsPattern]
batch.PodFailurePolicyOnExitCodesRequirement: containerName:s operator:s values:[i]
batch.PodFailurePolicyOnPodConditionsPattern: type:s status:s
batch.SuccessPolicy: rules:[@batch.SuccessPolicyRule]
batch.SuccessPolicyRule: succeededIndexes:s succeededCount:i
batch.JobStatus: conditions:[@batch.JobCondition]/type/merge startTime:t completionTime:t
  active:i succeeded:i failed:i terminating:i completedIndexes:s failedIndexes:s
  uncountedTerminatedPods:@batch.UncountedTerminatedPods ready:i
batch.JobCondition: type:s status:s lastProbeTime:t lastTransitionTime:t reason:s message:s
batch.UncountedTerminatedPods: succeeded:[s] failed:[s]

net.NetworkPolicy: +obj spec:@net.NetworkPolicySpec
net.NetworkPolicySpec: podSelector:@meta.LabelSelector ingress:[@net.NetworkPolicyIngressRule]
  egress:[@net.NetworkPolicyEgressRule] policyTypes:[s]
net.NetworkPolicyIngressRule: ports:[@net.NetworkPolicyPort] from:[@net.NetworkPolicyPeer]
net.NetworkPolicyEgressRule: ports:[@net.NetworkPolicyPort] to:[@net.NetworkPolicyPeer]
net.NetworkPolicyPort: protocol:s port:ios endPort:i
net.NetworkPolicyPeer: podSelector:@meta.LabelSelector namespaceSelector:@meta.LabelSelector
  ipBlock:@net.IPBlock
net.IPBlock: cidr:s except:[s]

rbac.Role: +obj rules:[@rbac.PolicyRule]
rbac.PolicyRule: verbs:[s] apiGroups:[s] resources:[s] resourceNames:[s] nonResourceURLs:[s]
rbac.RoleBinding: +obj subjects:[@rbac.Subject] roleRef:@rbac.RoleRef
rbac.Subject: kind:s apiGroup:s name:s namespace:s
rbac.RoleRef: apiGroup:s kind:s name:s

coord.Lease: +obj spec:@coord.LeaseSpec
coord.LeaseSpec: holderIdentity:s leaseDurationSeconds:i acquireTime:mt renewTime:mt
  leaseTransitions:i strategy:s preferredHolder:s

events.Event: +obj eventTime:mt series:@events.EventSeries reportingController:s
  reportingInstance:s action:s reason:s regarding:@core.ObjectReference
  related:@core.ObjectReference note:s type:s deprecatedSource:@core.EventSource
  deprecatedFirstTimestamp:t deprecatedLastTimestamp:t deprecatedCount:i
events.EventSeries: count:i lastObservedTime:mt

ext.CustomResourceDefinition: +obj spec:@ext.CustomResourceDefinitionSpec
  status:@ext.CustomResourceDefinitionStatus
ext.CustomResourceDefinitionSpec: group:s names:@ext.CustomResourceDefinitionNames scope:s
  versions:[@ext.CustomResourceDefinitionVersion] conversion:@ext.CustomResourceConversion
  preserveUnknownFields:b
ext.CustomResourceDefinitionNames: plural:s singular:s shortNames:[s] kind:s listKind:s
  categories:[s]
ext.CustomResourceDefinitionVersion: name:s served:b storage:b deprecated:b
  deprecationWarning:s schema:@ext.CustomResourceValidation
  subresources:@ext.CustomResourceSubresources
  additionalPrinterColumns:[@ext.CustomResourceColumnDefinition]
  selectableFields:[@ext.SelectableField]
ext.CustomResourceValidation: openAPIV3Schema:@ext.JSONSchemaProps
ext.JSONSchemaProps: id:s $schema:s $ref:s description:s type:s format:s title:s
  default:@ext.JSON maximum:n exclusiveMaximum:b minimum:n exclusiveMinimum:b maxLength:l
  minLength:l pattern:s maxItems:l minItems:l uniqueItems:b multipleOf:n enum:[@ext.JSON]
  maxProperties:l minProperties:l required:[s] items:@ext.JSONSchemaPropsOrArray
  allOf:[@ext.JSONSchemaProps] oneOf:[@ext.JSONSchemaProps] anyOf:[@ext.JSONSchemaProps]
  not:@ext.JSONSchemaProps properties:{@ext.JSONSchemaProps}
  additionalProperties:@ext.JSONSchemaPropsOrBool
  patternProperties:{@ext.JSONSchemaProps}
  dependencies:{@ext.JSONSchemaPropsOrStringArray}
  additionalItems:@ext.JSONSchemaPropsOrBool definitions:{@ext.JSONSchemaProps}
  externalDocs:@ext.ExternalDocumentation example:@ext.JSON nullable:b
  x-kubernetes-preserve-unknown-fields:b x-kubernetes-embedded-resource:b
  x-kubernetes-int-or-string:b x-kubernetes-list-map-keys:[s] x-kubernetes-list-type:s
  x-kubernetes-map-type:s x-kubernetes-validations:[@ext.ValidationRule]
ext.ExternalDocumentation: description:s url:s
ext.ValidationRule: rule:s message:s messageExpression:s reason:s fieldPath:s optionalOldSelf:b
ext.CustomResourceSubresources: status:@ext.CustomResourceSubresourceStatus
  scale:@ext.CustomResourceSubresourceScale
ext.CustomResourceSubresourceStatus:
ext.CustomResourceSubresourceScale: specReplicasPath:s statusReplicasPath:s labelSelectorPath:s
ext.CustomResourceColumnDefinition: name:s type:s format:s description:s priority:i jsonPath:s
ext.SelectableField: jsonPath:s
ext.CustomResourceConversion: strategy:s webhook:@ext.WebhookConversion
ext.WebhookConversion: clientConfig:@ext.WebhookClientConfig conversionReviewVersions:[s]
ext.WebhookClientConfig: url:s service:@ext.ServiceReference caBundle:byte
ext.ServiceReference: namespace:s name:s path:s port:i
ext.CustomResourceDefinitionStatus: conditions:[@ext.CustomResourceDefinitionCondition]
  acceptedNames:@ext.CustomResourceDefinitionNames storedVersions:[s]
ext.CustomResourceDefinitionCondition: type:s status:s lastTransitionTime:t reason:s message:s
"#;

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("{REF}{name}")})
}

fn parse_type(t: &str) -> Value {
    if let Some(inner) = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return json!({"type": "array", "items": parse_type(inner)});
    }
    if let Some(inner) = t.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
        return json!({"type": "object", "additionalProperties": parse_type(inner)});
    }
    if let Some(r) = t.strip_prefix('@') {
        return schema_ref(&expand(r));
    }
    match t {
        "s" => json!({"type": "string"}),
        "i" => json!({"type": "integer", "format": "int32"}),
        "l" => json!({"type": "integer", "format": "int64"}),
        "b" => json!({"type": "boolean"}),
        "n" => json!({"type": "number", "format": "double"}),
        "byte" => json!({"type": "string", "format": "byte"}),
        "o" => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        "m" => json!({"type": "object", "additionalProperties": {"type": "string", "default": ""}}),
        "mb" => {
            json!({"type": "object", "additionalProperties": {"type": "string", "format": "byte"}})
        }
        "mq" => {
            json!({"type": "object", "additionalProperties": schema_ref(&expand("res.Quantity"))})
        }
        "q" => schema_ref(&expand("res.Quantity")),
        "ios" => schema_ref(&expand("intstr.IntOrString")),
        "t" => schema_ref(&expand("meta.Time")),
        "mt" => schema_ref(&expand("meta.MicroTime")),
        other => panic!("unknown schema type {other:?}"),
    }
}

/// One field of the table: its schema, with patch metadata when given.
fn parse_field(token: &str) -> (String, Value) {
    let (name, rest) = token
        .split_once(':')
        .unwrap_or_else(|| panic!("bad field {token:?}"));
    let mut parts = rest.splitn(3, '/');
    let ty = parts.next().unwrap_or_default();
    let merge_key = parts.next().unwrap_or_default();
    let strategy = parts.next().unwrap_or_default();
    let mut schema = parse_type(ty);
    if !merge_key.is_empty() || !strategy.is_empty() {
        if schema.get("$ref").is_some() {
            // OpenAPI 3.0 ignores siblings of $ref: wrap it, as Kubernetes does.
            schema = json!({"allOf": [schema]});
        }
        let obj = schema.as_object_mut().expect("schema object");
        if !merge_key.is_empty() {
            obj.insert("x-kubernetes-patch-merge-key".into(), json!(merge_key));
        }
        if !strategy.is_empty() {
            obj.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
        }
    }
    (name.to_string(), schema)
}

fn special_schemas() -> Vec<(String, Value)> {
    let date_time = |d: &str| json!({"type": "string", "format": "date-time", "description": d});
    vec![
        (
            expand("meta.Time"),
            date_time(
                "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.",
            ),
        ),
        (
            expand("meta.MicroTime"),
            date_time("MicroTime is version of Time with microsecond level precision."),
        ),
        (
            expand("meta.FieldsV1"),
            json!({"type": "object", "description": "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format."}),
        ),
        (
            expand("meta.Patch"),
            json!({"type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}),
        ),
        (
            expand("intstr.IntOrString"),
            json!({"description": "IntOrString is a type that can hold an int32 or a string.",
                   "format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]}),
        ),
        (
            expand("res.Quantity"),
            json!({"description": "Quantity is a fixed-point representation of a number.",
                   "oneOf": [{"type": "string"}, {"type": "number"}]}),
        ),
        (
            expand("ext.JSON"),
            json!({"description": "JSON represents any valid JSON value."}),
        ),
        (
            expand("ext.JSONSchemaPropsOrArray"),
            json!({"description": "JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps or an array of JSONSchemaProps."}),
        ),
        (
            expand("ext.JSONSchemaPropsOrBool"),
            json!({"description": "JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value."}),
        ),
        (
            expand("ext.JSONSchemaPropsOrStringArray"),
            json!({"description": "JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string array."}),
        ),
    ]
}

/// Every built-in schema by full name, parsed once.
fn catalogue() -> &'static BTreeMap<String, Value> {
    static CAT: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    CAT.get_or_init(|| {
        let mut lines: Vec<String> = Vec::new();
        for line in SCHEMAS.lines() {
            if line.trim().is_empty() {
                continue;
            }
            if line.starts_with(char::is_whitespace) {
                let last = lines.last_mut().expect("continuation after a schema line");
                last.push(' ');
                last.push_str(line.trim());
            } else {
                lines.push(line.trim().to_string());
            }
        }
        let mut out: BTreeMap<String, Value> = special_schemas().into_iter().collect();
        for line in lines {
            let (name, fields) = line.split_once(':').expect("schema line");
            let mut props = Map::new();
            for token in fields.split_whitespace() {
                if token == "+obj" {
                    props.insert("apiVersion".into(), json!({"type": "string"}));
                    props.insert("kind".into(), json!({"type": "string"}));
                    props.insert("metadata".into(), schema_ref(&expand("meta.ObjectMeta")));
                    continue;
                }
                let (field, schema) = parse_field(token);
                props.insert(field, schema);
            }
            let mut schema = Map::new();
            schema.insert("type".into(), json!("object"));
            if !props.is_empty() {
                schema.insert("properties".into(), Value::Object(props));
            }
            out.insert(expand(name), Value::Object(schema));
        }
        out
    })
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

/// The component name of a type's object schema: Kubernetes' for built-ins, the reversed
/// group for custom resources (`sh.keda.v1alpha1.ScaledJob`).
pub fn schema_name(rt: &ResourceType) -> String {
    if rt.builtin
        && let Some(prefix) = builtin_prefix(&rt.group)
    {
        let name = expand(&format!("{prefix}.{}", rt.kind));
        if catalogue().contains_key(&name) {
            return name;
        }
    }
    let mut parts: Vec<&str> = rt.group.split('.').collect();
    parts.reverse();
    format!("{}.{}.{}", parts.join("."), rt.version, rt.kind)
}

fn base_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// `api/v1` or `apis/batch/v1`: the key of a group/version in the v3 index.
fn index_key(group: &str, version: &str) -> String {
    base_path(group, version)[1..].to_string()
}

fn query(name: &str, ty: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description,
           "schema": {"type": ty, "uniqueItems": true}})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "description": description, "required": true,
           "schema": {"type": "string", "uniqueItems": true}})
}

fn pretty() -> Value {
    query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
    )
}

fn dry_run() -> Value {
    query(
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    )
}

fn field_manager() -> Value {
    query(
        "fieldManager",
        "string",
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    )
}

fn field_validation() -> Value {
    query(
        "fieldValidation",
        "string",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
    )
}

fn list_params() -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
        ),
        query(
            "continue",
            "string",
            "The continue option should be set when retrieving more results from the server.",
        ),
        query(
            "fieldSelector",
            "string",
            "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        ),
        query(
            "labelSelector",
            "string",
            "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        ),
        query(
            "limit",
            "integer",
            "limit is a maximum number of responses to return for a list call.",
        ),
        query(
            "resourceVersion",
            "string",
            "resourceVersion sets a constraint on what resource versions a request may be served from.",
        ),
        query(
            "resourceVersionMatch",
            "string",
            "resourceVersionMatch determines how resourceVersion is applied to list calls.",
        ),
        query(
            "sendInitialEvents",
            "boolean",
            "`sendInitialEvents=true` may be set together with `watch=true`.",
        ),
        query(
            "timeoutSeconds",
            "integer",
            "Timeout for the list/watch call.",
        ),
        query(
            "watch",
            "boolean",
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
        ),
    ]
}

fn delete_params() -> Vec<Value> {
    vec![
        dry_run(),
        query(
            "gracePeriodSeconds",
            "integer",
            "The duration in seconds before the object should be deleted.",
        ),
        query(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "boolean",
            "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.",
        ),
        query(
            "orphanDependents",
            "boolean",
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7.",
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
        ),
    ]
}

fn json_content(schema: &Value) -> Value {
    json!({
        "application/json": {"schema": schema},
        "application/yaml": {"schema": schema},
    })
}

fn responses(codes: &[(&str, &str)], schema: &Value) -> Value {
    let mut r = Map::new();
    for (code, description) in codes {
        r.insert(
            (*code).into(),
            json!({"description": description, "content": json_content(schema)}),
        );
    }
    r.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(r)
}

/// `batch` -> `Batch`, `rbac.authorization.k8s.io` -> `RbacAuthorization`, "" -> `Core`,
/// `keda.sh` -> `KedaSh`: how Kubernetes spells groups in operation ids.
fn group_camel(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    let g = group.strip_suffix(".k8s.io").unwrap_or(group);
    g.split(['.', '-'])
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

struct OpCtx<'a> {
    rt: &'a ResourceType,
    tag: String,
    /// `CoreV1`, `BatchV1`...
    gv_camel: String,
}

impl OpCtx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn op(
        &self,
        verb: &str,
        action: &str,
        op_suffix: &str,
        description: &str,
        params: Vec<Value>,
        body: Option<Value>,
        resp: Value,
        gvk_value: Value,
    ) -> Value {
        let mut o = Map::new();
        o.insert("tags".into(), json!([self.tag]));
        o.insert("description".into(), json!(description));
        o.insert(
            "operationId".into(),
            json!(format!("{verb}{}{op_suffix}", self.gv_camel)),
        );
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        if let Some(b) = body {
            o.insert("requestBody".into(), b);
        }
        o.insert("responses".into(), resp);
        o.insert("x-kubernetes-action".into(), json!(action));
        o.insert("x-kubernetes-group-version-kind".into(), gvk_value);
        Value::Object(o)
    }
}

fn body(schema: &Value) -> Value {
    json!({"content": {"*/*": {"schema": schema}}, "required": true})
}

fn patch_body(smp: bool) -> Value {
    let patch = schema_ref(&expand("meta.Patch"));
    let mut content = Map::new();
    content.insert(
        "application/apply-patch+yaml".into(),
        json!({"schema": patch}),
    );
    content.insert(
        "application/json-patch+json".into(),
        json!({"schema": patch}),
    );
    content.insert(
        "application/merge-patch+json".into(),
        json!({"schema": patch}),
    );
    if smp {
        content.insert(
            "application/strategic-merge-patch+json".into(),
            json!({"schema": patch}),
        );
    }
    json!({"content": content, "required": true})
}

/// Whether kubectl should compute strategic merge patches for the kind from this document.
/// CustomResourceDefinitions are left to merge patches: their nested `openAPIV3Schema` maps
/// cannot be followed through a schema, and kubectl's compiled-in types do not include them.
fn serves_smp(rt: &ResourceType) -> bool {
    rt.builtin && rt.group != "apiextensions.k8s.io"
}

/// The path items of one resource type.
fn type_paths(rt: &ResourceType, paths: &mut BTreeMap<String, Value>) {
    let base = base_path(&rt.group, &rt.version);
    let ctx = OpCtx {
        rt,
        tag: format!(
            "{}_{}",
            {
                let g = group_camel(&rt.group);
                let mut c = g.chars();
                c.next()
                    .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            },
            rt.version
        ),
        gv_camel: format!("{}{}", group_camel(&rt.group), upper_first(&rt.version)),
    };
    let kind = &rt.kind;
    let obj = schema_ref(&schema_name(rt));
    let list = schema_ref(&format!("{}List", schema_name(rt)));
    let status_schema = schema_ref(&expand("meta.Status"));
    let own_gvk = gvk(&rt.group, &rt.version, kind);
    let ns = if rt.namespaced { "Namespaced" } else { "" };
    let writable = !ctx.rt.read_only;
    let smp = serves_smp(rt);

    let (collection, item) = if rt.namespaced {
        (
            format!("{base}/namespaces/{{namespace}}/{}", rt.plural),
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", rt.plural),
        )
    } else {
        (
            format!("{base}/{}", rt.plural),
            format!("{base}/{}/{{name}}", rt.plural),
        )
    };
    let ns_param = || {
        path_param(
            "namespace",
            "object name and auth scope, such as for teams and projects",
        )
    };
    let name_param = |what: &str| path_param("name", &format!("name of the {what}"));
    let mut scope_params = vec![];
    if rt.namespaced {
        scope_params.push(ns_param());
    }

    // Collection.
    let mut c = Map::new();
    c.insert(
        "get".into(),
        ctx.op(
            "list",
            "list",
            &format!("{ns}{kind}"),
            &format!("list or watch objects of kind {kind}"),
            list_params(),
            None,
            responses(&[("200", "OK")], &list),
            own_gvk.clone(),
        ),
    );
    if writable {
        c.insert(
            "post".into(),
            ctx.op(
                "create",
                "post",
                &format!("{ns}{kind}"),
                &format!("create a {kind}"),
                vec![dry_run(), field_manager(), field_validation()],
                Some(body(&obj)),
                responses(
                    &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
                    &obj,
                ),
                own_gvk.clone(),
            ),
        );
        let mut dc = delete_params();
        dc.extend(list_params().into_iter().filter(|p| {
            !matches!(
                p["name"].as_str(),
                Some("allowWatchBookmarks") | Some("watch")
            )
        }));
        c.insert(
            "delete".into(),
            ctx.op(
                "delete",
                "deletecollection",
                &format!("Collection{ns}{kind}"),
                &format!("delete collection of {kind}"),
                dc,
                Some(body(&schema_ref(&expand("meta.DeleteOptions")))),
                responses(&[("200", "OK")], &status_schema),
                own_gvk.clone(),
            ),
        );
    }
    let mut params = scope_params.clone();
    params.push(pretty());
    c.insert("parameters".into(), Value::Array(params));
    paths.insert(collection, Value::Object(c));

    // Every namespace.
    if rt.namespaced {
        let mut a = Map::new();
        a.insert(
            "get".into(),
            ctx.op(
                "list",
                "list",
                &format!("{kind}ForAllNamespaces"),
                &format!("list or watch objects of kind {kind}"),
                list_params(),
                None,
                responses(&[("200", "OK")], &list),
                own_gvk.clone(),
            ),
        );
        a.insert("parameters".into(), json!([pretty()]));
        paths.insert(format!("{base}/{}", rt.plural), Value::Object(a));
    }

    // One object.
    let item_params = |what: &str| {
        let mut p = vec![name_param(what)];
        p.extend(scope_params.iter().cloned());
        p.push(pretty());
        Value::Array(p)
    };
    let read_write = |suffix: &str,
                      what: &str,
                      schema: &Value,
                      gvk_value: &Value,
                      with_delete: bool| {
        let mut m = Map::new();
        let sfx = format!("{ns}{kind}{suffix}");
        m.insert(
            "get".into(),
            ctx.op(
                "read",
                "get",
                &sfx,
                &format!("read {what} of the specified {kind}"),
                vec![],
                None,
                responses(&[("200", "OK")], schema),
                gvk_value.clone(),
            ),
        );
        if writable {
            m.insert(
                "put".into(),
                ctx.op(
                    "replace",
                    "put",
                    &sfx,
                    &format!("replace {what} of the specified {kind}"),
                    vec![dry_run(), field_manager(), field_validation()],
                    Some(body(schema)),
                    responses(&[("200", "OK"), ("201", "Created")], schema),
                    gvk_value.clone(),
                ),
            );
            let mut patch_params = vec![dry_run(), field_manager(), field_validation()];
            patch_params.push(query(
                "force",
                "boolean",
                "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
            ));
            m.insert(
                "patch".into(),
                ctx.op(
                    "patch",
                    "patch",
                    &sfx,
                    &format!("partially update {what} of the specified {kind}"),
                    patch_params,
                    Some(patch_body(smp)),
                    responses(&[("200", "OK"), ("201", "Created")], schema),
                    gvk_value.clone(),
                ),
            );
            if with_delete {
                m.insert(
                    "delete".into(),
                    ctx.op(
                        "delete",
                        "delete",
                        &sfx,
                        &format!("delete a {kind}"),
                        delete_params(),
                        Some(body(&schema_ref(&expand("meta.DeleteOptions")))),
                        responses(&[("200", "OK"), ("202", "Accepted")], schema),
                        gvk_value.clone(),
                    ),
                );
            }
        }
        m.insert("parameters".into(), item_params(what));
        Value::Object(m)
    };
    paths.insert(item.clone(), read_write("", kind, &obj, &own_gvk, true));

    let s = rt.subresources;
    if s.status {
        paths.insert(
            format!("{item}/status"),
            read_write(
                "Status",
                &format!("status of {kind}"),
                &obj,
                &own_gvk,
                false,
            ),
        );
    }
    if s.scale {
        paths.insert(
            format!("{item}/scale"),
            read_write(
                "Scale",
                &format!("scale of {kind}"),
                &schema_ref(&expand("as.Scale")),
                &gvk("autoscaling", "v1", "Scale"),
                false,
            ),
        );
    }
    if s.binding && writable {
        let binding = schema_ref(&expand("core.Binding"));
        let mut m = Map::new();
        m.insert(
            "post".into(),
            ctx.op(
                "create",
                "post",
                &format!("{ns}{kind}Binding"),
                &format!("create binding of a {kind}"),
                vec![dry_run(), field_manager(), field_validation()],
                Some(body(&binding)),
                responses(
                    &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
                    &binding,
                ),
                gvk("", "v1", "Binding"),
            ),
        );
        m.insert("parameters".into(), item_params("Binding"));
        paths.insert(format!("{item}/binding"), Value::Object(m));
    }
    if s.eviction && writable {
        let eviction = schema_ref(&expand("policy.Eviction"));
        let mut m = Map::new();
        m.insert(
            "post".into(),
            ctx.op(
                "create",
                "post",
                &format!("{ns}{kind}Eviction"),
                &format!("create eviction of a {kind}"),
                vec![dry_run(), field_manager(), field_validation()],
                Some(body(&eviction)),
                responses(
                    &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
                    &eviction,
                ),
                gvk("policy", "v1", "Eviction"),
            ),
        );
        m.insert("parameters".into(), item_params("Eviction"));
        paths.insert(format!("{item}/eviction"), Value::Object(m));
    }
    if s.proxy {
        let proxy_gvk = gvk(&rt.group, &rt.version, &format!("{kind}ProxyOptions"));
        let string_resp = json!({
            "200": {"description": "OK", "content": {"*/*": {"schema": {"type": "string"}}}},
            "401": {"description": "Unauthorized"},
        });
        for (suffix, with_path) in [("proxy", false), ("proxy/{path}", true)] {
            let mut m = Map::new();
            for (method, verb) in [
                ("get", "connectGet"),
                ("post", "connectPost"),
                ("put", "connectPut"),
                ("patch", "connectPatch"),
                ("delete", "connectDelete"),
            ] {
                let op_suffix =
                    format!("{ns}{kind}Proxy{}", if with_path { "WithPath" } else { "" });
                m.insert(
                    method.into(),
                    ctx.op(
                        verb,
                        "connect",
                        &op_suffix,
                        &format!(
                            "connect {} requests to proxy of {kind}",
                            method.to_uppercase()
                        ),
                        vec![],
                        None,
                        string_resp.clone(),
                        proxy_gvk.clone(),
                    ),
                );
            }
            let mut p = vec![path_param(
                "name",
                &format!("name of the {kind}ProxyOptions"),
            )];
            p.extend(scope_params.iter().cloned());
            if with_path {
                p.push(path_param("path", "path to the resource"));
            } else {
                p.push(query(
                    "path",
                    "string",
                    "Path is the URL path to use for the current proxy request to pod.",
                ));
            }
            m.insert("parameters".into(), Value::Array(p));
            paths.insert(format!("{item}/{suffix}"), Value::Object(m));
        }
    }
}

/// Adds `x-kubernetes-group-version-kind` (an array, as Kubernetes writes it on schemas).
fn with_gvks(mut schema: Value, gvks: Vec<Value>) -> Value {
    if let Some(o) = schema.as_object_mut() {
        o.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks));
    }
    schema
}

/// The object schema of a custom resource: the CRD's `openAPIV3Schema` when known, otherwise
/// any object, with `metadata` as ObjectMeta either way.
fn custom_schema(rt: &ResourceType, crd_schema: Option<Value>) -> Value {
    let mut schema = crd_schema
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"type": "object"}));
    let o = schema.as_object_mut().expect("object");
    o.entry("type").or_insert(json!("object"));
    o.entry("description").or_insert(json!(format!(
        "{} is a custom resource of {}.",
        rt.kind, rt.group
    )));
    let props = o
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("properties");
    props.insert("apiVersion".into(), json!({"type": "string"}));
    props.insert("kind".into(), json!({"type": "string"}));
    props.insert("metadata".into(), schema_ref(&expand("meta.ObjectMeta")));
    for field in ["spec", "status"] {
        props
            .entry(field)
            .or_insert(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    }
    schema
}

fn list_schema(item_schema: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": schema_ref(&expand("meta.ListMeta")),
            "items": {"type": "array", "items": schema_ref(item_schema)},
        },
    })
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(name) = x.as_str().and_then(|r| r.strip_prefix(REF)) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// The OpenAPI 3.0 document of one group/version, None when nothing is served there.
pub fn v3_group_version(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    v3_group_version_with(reg, group, version, &|_| None)
}

/// As [`v3_group_version`], taking a custom resource type's `openAPIV3Schema` (from its
/// CustomResourceDefinition) when the caller has it.
pub fn v3_group_version_with(
    reg: &Registry,
    group: &str,
    version: &str,
    crd_schema: &dyn Fn(&ResourceType) -> Option<Value>,
) -> Option<Value> {
    let types: Vec<&ResourceType> = reg
        .all()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let mut paths = BTreeMap::new();
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    for rt in &types {
        type_paths(rt, &mut paths);
        let name = schema_name(rt);
        let own = vec![gvk(&rt.group, &rt.version, &rt.kind)];
        let schema = match catalogue().get(&name) {
            Some(s) if rt.builtin => s.clone(),
            _ => custom_schema(rt, crd_schema(rt)),
        };
        schemas.insert(name.clone(), with_gvks(schema, own));
        schemas.insert(
            format!("{name}List"),
            with_gvks(
                list_schema(&name),
                vec![gvk(&rt.group, &rt.version, &format!("{}List", rt.kind))],
            ),
        );
    }
    // Pull in every schema the paths and kinds refer to.
    let mut pending = Vec::new();
    for p in paths.values() {
        collect_refs(p, &mut pending);
    }
    for s in schemas.values() {
        collect_refs(s, &mut pending);
    }
    let mut seen: BTreeSet<String> = schemas.keys().cloned().collect();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(s) = catalogue().get(&name) else {
            continue;
        };
        collect_refs(s, &mut pending);
        let s = match name.as_str() {
            n if n == expand("meta.Status") => with_gvks(s.clone(), vec![gvk("", "v1", "Status")]),
            n if n == expand("meta.DeleteOptions") => {
                let mut gvks = vec![gvk("", "v1", "DeleteOptions")];
                if !group.is_empty() {
                    gvks.push(gvk(group, version, "DeleteOptions"));
                }
                with_gvks(s.clone(), gvks)
            }
            n if n == expand("policy.Eviction") => {
                with_gvks(s.clone(), vec![gvk("policy", "v1", "Eviction")])
            }
            n if n == expand("core.Binding") => {
                with_gvks(s.clone(), vec![gvk("", "v1", "Binding")])
            }
            n if n == expand("as.Scale") => {
                with_gvks(s.clone(), vec![gvk("autoscaling", "v1", "Scale")])
            }
            _ => s.clone(),
        };
        schemas.insert(name, s);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                                "name": "authorization", "in": "header"}
            }
        },
        "security": [{"BearerToken": []}],
    }))
}

/// FNV-1a, 64 bits: a stable content hash for the `?hash=` of each document's URL.
fn content_hash(doc: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in doc.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `GET /openapi/v3`: every served group/version with the URL of its document.
pub fn v3_root(reg: &Registry) -> Value {
    v3_root_with(reg, &|_| None)
}

/// As [`v3_root`], hashing the documents [`v3_group_version_with`] gives.
pub fn v3_root_with(reg: &Registry, crd_schema: &dyn Fn(&ResourceType) -> Option<Value>) -> Value {
    let mut paths = Map::new();
    for (group, versions) in reg.groups() {
        for version in versions {
            let Some(doc) = v3_group_version_with(reg, &group, &version, crd_schema) else {
                continue;
            };
            let key = index_key(&group, &version);
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", content_hash(&doc))}),
            );
        }
    }
    json!({"paths": paths})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::api::registry::types_of_crd;

    fn docs(reg: &Registry) -> Vec<(String, Value)> {
        let mut out = vec![];
        for (g, vs) in reg.groups() {
            for v in vs {
                out.push((index_key(&g, &v), v3_group_version(reg, &g, &v).unwrap()));
            }
        }
        out
    }

    fn assert_refs_local(v: &Value, key: &str) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if let (true, Some(r)) = (k == "$ref", x.as_str()) {
                        assert!(r.starts_with(REF), "{key}: {r}");
                    }
                    assert_refs_local(x, key);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| assert_refs_local(x, key)),
            _ => {}
        }
    }

    #[test]
    fn every_ref_resolves() {
        let mut reg = Registry::new(true);
        reg.add_crd(types_of_crd(&json!({"spec": {
            "group": "example.com", "scope": "Cluster",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true, "subresources": {"status": {}, "scale": {}}}]
        }})));
        let all = docs(&reg);
        assert!(all.len() >= 10);
        for (key, doc) in &all {
            let schemas = doc["components"]["schemas"].as_object().unwrap();
            let mut refs = vec![];
            collect_refs(doc, &mut refs);
            assert!(!refs.is_empty());
            for r in refs {
                assert!(schemas.contains_key(&r), "{key}: unresolved {r}");
            }
            // Every reference points into components/schemas.
            assert_refs_local(doc, key);
        }
        // The whole catalogue is closed too.
        for (name, s) in catalogue() {
            let mut refs = vec![];
            collect_refs(s, &mut refs);
            for r in refs {
                assert!(catalogue().contains_key(&r), "{name}: unresolved {r}");
            }
        }
    }

    fn patch_op<'a>(doc: &'a Value, group: &str, version: &str, kind: &str) -> Vec<&'a Value> {
        let want = gvk(group, version, kind);
        doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|p| p.get("patch"))
            .filter(|op| op["x-kubernetes-group-version-kind"] == want)
            .collect()
    }

    #[test]
    fn patch_operations_advertise_field_validation() {
        let reg = Registry::new(true);
        for rt in reg.all() {
            let doc = v3_group_version(&reg, &rt.group, &rt.version).unwrap();
            let ops = patch_op(&doc, &rt.group, &rt.version, &rt.kind);
            if rt.read_only {
                assert!(ops.is_empty(), "{}", rt.kind);
                continue;
            }
            assert!(!ops.is_empty(), "{} has a PATCH", rt.kind);
            for op in ops {
                let names: Vec<&str> = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["in"] == "query")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                for n in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                    assert!(names.contains(&n), "{}: {n}", rt.kind);
                }
                let content = op["requestBody"]["content"].as_object().unwrap();
                assert!(content.contains_key("application/apply-patch+yaml"));
                assert!(content.contains_key("application/merge-patch+json"));
                assert_eq!(
                    content.contains_key("application/strategic-merge-patch+json"),
                    serves_smp(rt),
                    "{}",
                    rt.kind
                );
                assert_eq!(op["x-kubernetes-action"], "patch");
            }
        }
    }

    #[test]
    fn paths_and_operations() {
        let reg = Registry::new(true);
        let core = v3_group_version(&reg, "", "v1").unwrap();
        let paths = core["paths"].as_object().unwrap();
        for p in [
            "/api/v1/namespaces/{namespace}/pods",
            "/api/v1/namespaces/{namespace}/pods/{name}",
            "/api/v1/namespaces/{namespace}/pods/{name}/status",
            "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
            "/api/v1/namespaces/{namespace}/pods/{name}/proxy",
            "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
            "/api/v1/pods",
            "/api/v1/namespaces",
            "/api/v1/namespaces/{name}",
            "/api/v1/nodes/{name}/status",
        ] {
            assert!(paths.contains_key(p), "{p}");
        }
        let item = &paths["/api/v1/namespaces/{namespace}/pods/{name}"];
        for m in ["get", "put", "patch", "delete"] {
            assert_eq!(
                item[m]["x-kubernetes-group-version-kind"],
                json!({"group": "", "version": "v1", "kind": "Pod"})
            );
        }
        assert_eq!(item["get"]["operationId"], "readCoreV1NamespacedPod");
        assert_eq!(item["patch"]["operationId"], "patchCoreV1NamespacedPod");
        assert_eq!(
            item["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Pod"
        );
        let coll = &paths["/api/v1/namespaces/{namespace}/pods"];
        assert_eq!(coll["get"]["x-kubernetes-action"], "list");
        assert_eq!(coll["post"]["x-kubernetes-action"], "post");
        assert_eq!(coll["delete"]["x-kubernetes-action"], "deletecollection");
        assert_eq!(
            coll["post"]["requestBody"]["content"]["*/*"]["schema"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Pod"
        );
        let ev = &paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"];
        assert_eq!(ev["x-kubernetes-group-version-kind"]["kind"], "Eviction");
        assert_eq!(
            paths["/api/v1/namespaces"]["get"]["operationId"],
            "listCoreV1Namespace"
        );

        let apps = v3_group_version(&reg, "apps", "v1").unwrap();
        let scale = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
        assert_eq!(
            scale["patch"]["x-kubernetes-group-version-kind"],
            json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
        );
        assert!(apps["components"]["schemas"]["io.k8s.api.autoscaling.v1.Scale"].is_object());

        let ev = v3_group_version(&reg, "events.k8s.io", "v1").unwrap();
        let item = &ev["paths"]["/apis/events.k8s.io/v1/namespaces/{namespace}/events/{name}"];
        assert!(item.get("get").is_some() && item.get("patch").is_none());

        let keda = v3_group_version(&reg, "keda.sh", "v1alpha1").unwrap();
        let sj = &keda["components"]["schemas"]["sh.keda.v1alpha1.ScaledJob"];
        assert_eq!(sj["type"], "object");
        assert_eq!(
            sj["x-kubernetes-group-version-kind"],
            json!([{"group": "keda.sh", "version": "v1alpha1", "kind": "ScaledJob"}])
        );
        assert_eq!(
            sj["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"],
            true
        );
        assert!(
            keda["paths"]
                .get("/apis/keda.sh/v1alpha1/clustertriggerauthentications/{name}")
                .is_some()
        );
        assert_eq!(
            keda["paths"]["/apis/keda.sh/v1alpha1/namespaces/{namespace}/scaledjobs/{name}"]["patch"]
                ["operationId"],
            "patchKedaShV1alpha1NamespacedScaledJob"
        );

        assert!(v3_group_version(&reg, "batch", "v2").is_none());
    }

    #[test]
    fn component_schemas_carry_gvks() {
        let reg = Registry::new(true);
        let batch = v3_group_version(&reg, "batch", "v1").unwrap();
        let s = &batch["components"]["schemas"];
        assert_eq!(
            s["io.k8s.api.batch.v1.Job"]["x-kubernetes-group-version-kind"],
            json!([{"group": "batch", "version": "v1", "kind": "Job"}])
        );
        assert_eq!(
            s["io.k8s.api.batch.v1.JobList"]["x-kubernetes-group-version-kind"][0]["kind"],
            "JobList"
        );
        assert_eq!(s["io.k8s.api.batch.v1.Job"]["type"], "object");
        assert!(s["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].is_object());
        assert_eq!(
            s["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]["x-kubernetes-group-version-kind"],
            json!([{"group": "", "version": "v1", "kind": "DeleteOptions"},
                   {"group": "batch", "version": "v1", "kind": "DeleteOptions"}])
        );
        // Only what the document needs.
        assert!(s.get("io.k8s.api.apps.v1.Deployment").is_none());
        // Exactly one component per kind GVK (kubectl uses the first match).
        let mut seen = BTreeSet::new();
        for (name, schema) in s.as_object().unwrap() {
            for g in schema["x-kubernetes-group-version-kind"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert!(seen.insert(g.to_string()), "{name}: duplicate {g}");
            }
        }
    }

    /// kubectl's `PatchMetaFromOpenAPIV3`: follows a field and returns (schema, mergeKey,
    /// strategy), or the error kubectl reports.
    fn lookup<'a>(
        doc: &'a Value,
        schema: &'a Value,
        key: &str,
        slice: bool,
    ) -> Result<(&'a Value, Option<String>, Option<String>), String> {
        let schemas = &doc["components"]["schemas"];
        let props = schema["properties"].as_object().filter(|p| !p.is_empty());
        let Some(sub) = props.and_then(|p| p.get(key)) else {
            return Err(format!("unable to find api field \"{key}\""));
        };
        let mk = sub["x-kubernetes-patch-merge-key"]
            .as_str()
            .map(String::from);
        let st = sub["x-kubernetes-patch-strategy"]
            .as_str()
            .map(String::from);
        let mut s = sub;
        if slice && s.get("items").is_some() {
            s = &s["items"];
        }
        if let Some(first) = s["allOf"].get(0) {
            s = first;
        }
        if let Some(r) = s["$ref"].as_str() {
            let name = r.strip_prefix(REF).unwrap();
            s = schemas
                .get(name)
                .ok_or(format!("unable to resolve {r} in OpenAPI V3"))?;
        }
        Ok((s, mk, st))
    }

    fn kind_schema<'a>(doc: &'a Value, group: &str, version: &str, kind: &str) -> &'a Value {
        let want = gvk(group, version, kind);
        doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .values()
            .find(|s| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|a| a.contains(&want))
            })
            .unwrap()
    }

    /// Walks a manifest the way the strategic-merge differ does: every map or list field is
    /// looked up in the schema.
    fn walk(doc: &Value, schema: &Value, obj: &Value, at: &str) {
        let Some(m) = obj.as_object() else { return };
        for (k, v) in m {
            match v {
                Value::Object(_) => {
                    let (s, _, _) =
                        lookup(doc, schema, k, false).unwrap_or_else(|e| panic!("{at}.{k}: {e}"));
                    if s["properties"].is_object() {
                        walk(doc, s, v, &format!("{at}.{k}"));
                    }
                }
                Value::Array(items) => {
                    let (s, _, _) =
                        lookup(doc, schema, k, true).unwrap_or_else(|e| panic!("{at}.{k}: {e}"));
                    for item in items {
                        if item.is_object() {
                            walk(doc, s, item, &format!("{at}.{k}[]"));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn pod_template() -> Value {
        json!({
            "metadata": {"labels": {"app": "agent"}, "annotations": {"a": "b"}},
            "spec": {
                "serviceAccountName": "agent",
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 120,
                "nodeSelector": {"pool": "agents"},
                "imagePullSecrets": [{"name": "regcred"}],
                "securityContext": {"runAsNonRoot": true, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}]}},
                    "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1,
                        "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "agent"}}}}]}},
                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": "agent"}}}],
                "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
                "containers": [{
                    "name": "agent", "image": "ghcr.io/x/agent:1", "imagePullPolicy": "IfNotPresent",
                    "args": ["--queue", "tasks"],
                    "ports": [{"containerPort": 9090, "name": "metrics", "protocol": "TCP"}],
                    "env": [{"name": "A", "value": "1"},
                            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                    "envFrom": [{"secretRef": {"name": "agent-env"}}, {"configMapRef": {"name": "cm"}}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
                    "volumeMounts": [{"name": "work", "mountPath": "/work"}, {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 9090}, "periodSeconds": 10},
                    "readinessProbe": {"exec": {"command": ["true"]}},
                    "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
                    "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true}
                }],
                "volumes": [{"name": "work", "emptyDir": {"sizeLimit": "1Gi"}},
                            {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a"}]}},
                            {"name": "sec", "secret": {"secretName": "s"}},
                            {"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}}]
            }
        })
    }

    #[test]
    fn strategic_merge_metadata_for_realistic_manifests() {
        let reg = Registry::new(true);
        let meta = json!({"name": "x", "namespace": "w", "labels": {"a": "b"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "finalizers": ["example.com/f"],
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]});
        let manifests = vec![
            (
                "batch",
                "Job",
                json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 60,
                    "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]},
                    "template": pod_template()}}),
            ),
            (
                "apps",
                "Deployment",
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "agent"}},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
                    "template": pod_template()}}),
            ),
            (
                "",
                "Pod",
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                "spec": pod_template()["spec"].clone()}),
            ),
            (
                "",
                "Service",
                json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
                "spec": {"selector": {"app": "a"}, "ports": [{"name": "amqp", "port": 5672, "targetPort": "amqp"}]}}),
            ),
            (
                "",
                "Secret",
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta,
                "type": "Opaque", "stringData": {"host": "amqp://x"}, "data": {"k": "dg=="}}),
            ),
            (
                "",
                "ConfigMap",
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "b"}}),
            ),
            (
                "",
                "ServiceAccount",
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta,
                "imagePullSecrets": [{"name": "r"}]}),
            ),
            (
                "",
                "Namespace",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}),
            ),
            (
                "",
                "LimitRange",
                json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta,
                "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}, "defaultRequest": {"cpu": "100m"}}]}}),
            ),
            (
                "",
                "PersistentVolumeClaim",
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
            ),
            (
                "policy",
                "PodDisruptionBudget",
                json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "agent"}}}}),
            ),
            (
                "networking.k8s.io",
                "NetworkPolicy",
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                "spec": {"podSelector": {"matchLabels": {"app": "agent"}}, "policyTypes": ["Egress"],
                    "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"n": "q"}}}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                                "ports": [{"protocol": "TCP", "port": 5672}]}]}}),
            ),
            (
                "rbac.authorization.k8s.io",
                "Role",
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            ),
            (
                "rbac.authorization.k8s.io",
                "RoleBinding",
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "agent", "namespace": "w"}]}),
            ),
            (
                "coordination.k8s.io",
                "Lease",
                json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
                "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}),
            ),
        ];
        for (group, kind, manifest) in manifests {
            let doc = v3_group_version(&reg, group, "v1").unwrap();
            let schema = kind_schema(&doc, group, "v1", kind);
            walk(&doc, schema, &manifest, kind);
        }
    }

    #[test]
    fn patch_strategies_match_kubernetes() {
        let reg = Registry::new(true);
        let doc = v3_group_version(&reg, "batch", "v1").unwrap();
        let job = kind_schema(&doc, "batch", "v1", "Job");
        let (meta, _, _) = lookup(&doc, job, "metadata", false).unwrap();
        let (_, mk, st) = lookup(&doc, meta, "finalizers", true).unwrap();
        assert_eq!((mk, st.as_deref()), (None, Some("merge")));
        let (_, mk, st) = lookup(&doc, meta, "ownerReferences", true).unwrap();
        assert_eq!((mk.as_deref(), st.as_deref()), (Some("uid"), Some("merge")));
        let (spec, _, _) = lookup(&doc, job, "spec", false).unwrap();
        let (tmpl, _, _) = lookup(&doc, spec, "template", false).unwrap();
        let (pod, _, _) = lookup(&doc, tmpl, "spec", false).unwrap();
        let (container, mk, st) = lookup(&doc, pod, "containers", true).unwrap();
        assert_eq!(
            (mk.as_deref(), st.as_deref()),
            (Some("name"), Some("merge"))
        );
        let (_, mk, st) = lookup(&doc, pod, "volumes", true).unwrap();
        assert_eq!(
            (mk.as_deref(), st.as_deref()),
            (Some("name"), Some("merge,retainKeys"))
        );
        for (field, key) in [
            ("env", "name"),
            ("volumeMounts", "mountPath"),
            ("ports", "containerPort"),
        ] {
            let (_, mk, st) = lookup(&doc, container, field, true).unwrap();
            assert_eq!(
                (mk.as_deref(), st.as_deref()),
                (Some(key), Some("merge")),
                "{field}"
            );
        }
        let (status, _, _) = lookup(&doc, job, "status", false).unwrap();
        let (_, mk, _) = lookup(&doc, status, "conditions", true).unwrap();
        assert_eq!(mk.as_deref(), Some("type"));
        assert!(lookup(&doc, pod, "noSuchField", false).is_err());

        let apps = v3_group_version(&reg, "apps", "v1").unwrap();
        let deploy = kind_schema(&apps, "apps", "v1", "Deployment");
        let (spec, _, _) = lookup(&apps, deploy, "spec", false).unwrap();
        let (strategy, _, st) = lookup(&apps, spec, "strategy", false).unwrap();
        assert_eq!(st.as_deref(), Some("retainKeys"));
        assert!(strategy["properties"]["rollingUpdate"].is_object());
    }

    #[test]
    fn root_index() {
        let reg = Registry::new(true);
        let root = v3_root(&reg);
        let paths = root["paths"].as_object().unwrap();
        for key in [
            "api/v1",
            "apis/apps/v1",
            "apis/batch/v1",
            "apis/keda.sh/v1alpha1",
            "apis/events.k8s.io/v1",
        ] {
            let url = paths[key]["serverRelativeURL"].as_str().unwrap();
            assert!(
                url.starts_with(&format!("/openapi/v3/{key}?hash=")),
                "{url}"
            );
        }
        // Stable for the same content, different for different content.
        assert_eq!(root, v3_root(&reg));
        assert_ne!(paths["api/v1"], paths["apis/batch/v1"]);
        let without_keda = v3_root(&Registry::new(false));
        assert!(without_keda["paths"].get("apis/keda.sh/v1alpha1").is_none());
        assert_eq!(
            without_keda["paths"]["apis/batch/v1"],
            paths["apis/batch/v1"]
        );
    }

    #[test]
    fn crd_schemas_when_known() {
        let reg = Registry::new(true);
        let doc = v3_group_version_with(&reg, "keda.sh", "v1alpha1", &|rt| {
            (rt.kind == "ScaledJob").then(|| {
                json!({"type": "object", "properties": {
                    "metadata": {"type": "object"},
                    "spec": {"type": "object", "properties": {"maxReplicaCount": {"type": "integer"}}}}})
            })
        })
        .unwrap();
        let sj = &doc["components"]["schemas"]["sh.keda.v1alpha1.ScaledJob"];
        assert_eq!(
            sj["properties"]["spec"]["properties"]["maxReplicaCount"]["type"],
            "integer"
        );
        assert_eq!(
            sj["properties"]["metadata"]["$ref"],
            format!("{REF}{META}.ObjectMeta")
        );
        let so = &doc["components"]["schemas"]["sh.keda.v1alpha1.ScaledObject"];
        assert_eq!(
            so["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"],
            true
        );
    }
}

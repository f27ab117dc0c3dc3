//! The component schemas of the built-in kinds: a compact table (one line per type, `field:type`
//! tokens) and its expansion into OpenAPI v3 schemas, plus the few schemas the table cannot say.

use super::*;

pub(super) const REF: &str = "#/components/schemas/";
pub(super) const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// Short prefixes used in the schema table below.
pub(super) fn expand(short: &str) -> String {
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
pub(super) fn builtin_prefix(group: &str) -> Option<&'static str> {
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
pub(super) const SCHEMAS: &str = r#"
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

pub(super) fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("{REF}{name}")})
}

pub(super) fn parse_type(t: &str) -> Value {
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
pub(super) fn parse_field(token: &str) -> (String, Value) {
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

pub(super) fn special_schemas() -> Vec<(String, Value)> {
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
pub(super) fn catalogue() -> &'static BTreeMap<String, Value> {
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

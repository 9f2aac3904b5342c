{{/* Names, labels and the pieces every workload shares. */}}

{{- define "aurora.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aurora.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "aurora.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "aurora.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aurora.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "aurora.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aurora-log-system
{{- end -}}

{{/* selector labels of one component: include "aurora.selector" (list . "processor") */}}
{{- define "aurora.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "aurora.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "aurora.componentLabels" -}}
{{ include "aurora.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "aurora.serviceAccountName" -}}
{{- $root := index . 0 -}}
{{- $sa := index $root.Values.serviceAccounts (index . 1) -}}
{{- default (printf "%s-%s" (include "aurora.fullname" $root) (index . 1)) $sa.name -}}
{{- end -}}

{{/* image of a service: registry/repository:tag or @digest */}}
{{- define "aurora.image" -}}
{{- $root := index . 0 -}}
{{- $img := index . 1 -}}
{{- $repo := $img.repository -}}
{{- if $root.Values.image.registry -}}{{- $repo = printf "%s/%s" $root.Values.image.registry $img.repository -}}{{- end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default (default $root.Chart.AppVersion $root.Values.image.tag) $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* Settings that the chart derives: in-cluster POC services win over `config`. */}}
{{- define "aurora.derivedConfig" -}}
{{- $fn := include "aurora.fullname" . -}}
{{- $out := dict -}}
{{- if .Values.poc.kafka.enabled -}}
{{- $_ := set $out "KAFKA_BROKERS" (printf "%s-kafka:9092" $fn) -}}
{{- $_ := set $out "KAFKA_SECURITY_PROTOCOL" "PLAINTEXT" -}}
{{- end -}}
{{- if .Values.poc.valkey.enabled -}}
{{- $_ := set $out "VALKEY_URL" (printf "redis://%s-valkey:6379/0" $fn) -}}
{{- end -}}
{{- if .Values.poc.openobserve.enabled -}}
{{- $_ := set $out "OPENOBSERVE_URL" (printf "http://%s-openobserve:5080" $fn) -}}
{{- end -}}
{{- $_ := set $out "METRICS_PORT" (toString .Values.metrics.port) -}}
{{- toYaml $out -}}
{{- end -}}

{{/* env of a service container: the ConfigMap, the Secret's keys, then the component's own. */}}
{{- define "aurora.env" -}}
{{- $root := index . 0 -}}
{{- $component := index $root.Values (index . 1) -}}
envFrom:
  - configMapRef:
      name: {{ include "aurora.fullname" $root }}-config
env:
  - name: OPENOBSERVE_PASS
    valueFrom:
      secretKeyRef:
        name: {{ $root.Values.secrets.existingSecret }}
        key: {{ $root.Values.secrets.openobservePasswordKey }}
        optional: true
  - name: KAFKA_SASL_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ $root.Values.secrets.existingSecret }}
        key: {{ $root.Values.secrets.kafkaPasswordKey }}
        optional: true
{{- range $k, $v := $component.env }}
  - name: {{ $k }}
    value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{- define "aurora.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* restricted Pod Security Standard, read-only root filesystem */}}
{{- define "aurora.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "aurora.topologySpread" -}}
{{- $root := index . 0 -}}
{{- if $root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ $root.Values.topologySpread.maxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ $root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "aurora.selector" . | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "aurora.selector" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/* nodeSelector (chart-wide arm64 plus the component's), tolerations, affinity */}}
{{- define "aurora.scheduling" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $selector := merge (deepCopy (default (dict) $component.nodeSelector)) $root.Values.nodeSelector -}}
{{- with $selector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* probes on the observability port */}}
{{- define "aurora.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: metrics}
  periodSeconds: 5
  failureThreshold: 24
livenessProbe:
  httpGet: {path: /healthz, port: metrics}
  periodSeconds: 15
  timeoutSeconds: 3
  failureThreshold: 4
readinessProbe:
  httpGet: {path: /readyz, port: metrics}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{/* The most processor pods that may run at once: the autoscaler's maximum (KEDA's when it owns
the HPA, else the HPA's, else the fixed count) plus the rolling update's surge. */}}
{{- define "aurora.processorMaxPods" -}}
{{- $p := .Values.processor -}}
{{- $max := $p.replicas -}}
{{- if $p.keda.enabled -}}{{- $max = $p.keda.maxReplicaCount -}}
{{- else if $p.hpa.enabled -}}{{- $max = $p.hpa.maxReplicas -}}{{- end -}}
{{- max 1 (add $max $p.maxSurge) -}}
{{- end -}}

{{/*
Names, labels and shared pieces of the Weft chart.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "weft.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The name every resource starts with: fullnameOverride, else the release name when it
contains the chart name, else <release>-<chart>. At most 63 characters.
*/}}
{{- define "weft.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "weft.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "weft.labels" -}}
helm.sh/chart: {{ include "weft.chart" . }}
{{ include "weft.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: weft
{{- end -}}

{{/* Labels that identify this release's objects; selectors build on them. */}}
{{- define "weft.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weft.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Names of the API's objects (Deployment, Service, PodDisruptionBudget, Role). */}}
{{- define "weft.apiName" -}}
{{- printf "%s-api" (include "weft.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the chart's NATS StatefulSet and its client Service. */}}
{{- define "weft.natsName" -}}
{{- printf "%s-nats" (include "weft.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the headless Service that governs the NATS StatefulSet. */}}
{{- define "weft.natsHeadlessName" -}}
{{- printf "%s-nats-headless" (include "weft.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the Secret with the NATS credentials. */}}
{{- define "weft.natsAuthSecretName" -}}
{{- if .Values.nats.auth.existingSecret -}}
{{- .Values.nats.auth.existingSecret -}}
{{- else -}}
{{- printf "%s-nats-auth" (include "weft.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The NATS URL(s) the API and the workers connect to (the chart's NATS is in their namespace). */}}
{{- define "weft.natsUrl" -}}
{{- if .Values.nats.external.url -}}
{{- .Values.nats.external.url -}}
{{- else -}}
{{- printf "nats://%s:4222" (include "weft.natsName" .) -}}
{{- end -}}
{{- end -}}

{{/* host:port of the NATS HTTP monitoring endpoint (for KEDA). */}}
{{- define "weft.natsMonitoringEndpoint" -}}
{{- if .Values.nats.external.url -}}
{{- .Values.nats.external.monitoringEndpoint -}}
{{- else -}}
{{- printf "%s.%s.svc.%s:8222" (include "weft.natsName" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}
{{- end -}}

{{/* Service account names. */}}
{{- define "weft.apiServiceAccountName" -}}
{{- if .Values.api.serviceAccount.create -}}
{{- default (include "weft.apiName" .) .Values.api.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.api.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "weft.workerServiceAccountName" -}}
{{- if .Values.workers.serviceAccount.create -}}
{{- default (printf "%s-worker" (include "weft.fullname" .) | trunc 63 | trimSuffix "-") .Values.workers.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.workers.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* An image reference; call with (dict "image" .Values.api.image "root" $). */}}
{{- define "weft.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/*
The worker pools with workers.defaults applied, as JSON: {"pools": [...]}. Each pool
also gets `deployment` (its Deployment's name), `autoscaler` ("hpa", "keda" or
"none"), `hpa` (the name of the HorizontalPodAutoscaler scaling it; KEDA names its
own keda-hpa-<ScaledObject name>) and `scaledObject`. Use it as:
  {{- range (include "weft.pools" . | fromJson).pools }}
Numbers come back as floats: print them with `int`.
*/}}
{{- define "weft.pools" -}}
{{- $root := . -}}
{{- $defaults := .Values.workers.defaults -}}
{{- $pools := list -}}
{{- range $pool := .Values.workers.pools -}}
{{- $resolved := deepCopy $defaults -}}
{{- range $key, $value := $pool -}}
{{- if and (kindIs "map" $value) (has $key (list "autoscaling" "keda" "podDisruptionBudget")) -}}
{{- $merged := deepCopy (get $defaults $key | default dict) -}}
{{- range $subKey, $subValue := $value -}}
{{- $_ := set $merged $subKey $subValue -}}
{{- end -}}
{{- $_ := set $resolved $key $merged -}}
{{- else -}}
{{- $_ := set $resolved $key $value -}}
{{- end -}}
{{- end -}}
{{- $name := printf "%s-worker-%s" (include "weft.fullname" $root) $pool.name -}}
{{- $_ := set $resolved "deployment" $name -}}
{{- $_ := set $resolved "scaledObject" $name -}}
{{- if $resolved.keda.enabled -}}
{{- $_ := set $resolved "autoscaler" (ternary "both" "keda" (eq $resolved.autoscaling.enabled true)) -}}
{{- $_ := set $resolved "hpa" (printf "keda-hpa-%s" $name) -}}
{{- else if $resolved.autoscaling.enabled -}}
{{- $_ := set $resolved "autoscaler" "hpa" -}}
{{- $_ := set $resolved "hpa" $name -}}
{{- else -}}
{{- $_ := set $resolved "autoscaler" "none" -}}
{{- end -}}
{{- $pools = append $pools $resolved -}}
{{- end -}}
{{- dict "pools" $pools | toJson -}}
{{- end -}}

{{/*
WEFT_K8S_WORKER_POOLS: one entry per pool, {"pool", "deployment", "autoscaler", "hpa"}
with "hpa" left out when no autoscaler runs the pool.
*/}}
{{- define "weft.workerPoolsJson" -}}
{{- $entries := list -}}
{{- range (include "weft.pools" . | fromJson).pools -}}
{{- $entry := dict "pool" .name "deployment" .deployment "autoscaler" .autoscaler -}}
{{- if ne .autoscaler "none" -}}
{{- $_ := set $entry "hpa" .hpa -}}
{{- end -}}
{{- $entries = append $entries $entry -}}
{{- end -}}
{{- toJson $entries -}}
{{- end -}}

{{/* Environment variables of every Weft container: NATS, prefix, log level. */}}
{{- define "weft.commonEnv" -}}
- name: WEFT_NATS_URL
  value: {{ include "weft.natsUrl" . | quote }}
{{- if .Values.nats.auth.enabled }}
{{- if eq .Values.nats.auth.mode "token" }}
- name: WEFT_NATS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.natsAuthSecretName" . }}
      key: token
{{- else }}
- name: WEFT_NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.natsAuthSecretName" . }}
      key: user
- name: WEFT_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "weft.natsAuthSecretName" . }}
      key: password
{{- end }}
{{- end }}
- name: WEFT_PREFIX
  value: {{ .Values.prefix | quote }}
- name: WEFT_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- if .Values.sharedData.enabled }}
- name: WEFT_DATA_ROOT
  value: {{ .Values.sharedData.mountPath | quote }}
{{- end }}
{{- end -}}

{{/* Name of the shared data PersistentVolumeClaim. */}}
{{- define "weft.sharedDataClaimName" -}}
{{- if .Values.sharedData.existingClaim -}}
{{- .Values.sharedData.existingClaim -}}
{{- else -}}
{{- printf "%s-data" (include "weft.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
The init container that waits until the first NATS server in WEFT_NATS_URL accepts
TCP connections. It runs node from the pod's own image, so it needs nothing else.
Call with (dict "image" .Values.api.image "root" $).
*/}}
{{- define "weft.waitForNatsContainer" -}}
- name: wait-for-nats
  image: {{ include "weft.image" . | quote }}
  imagePullPolicy: {{ .image.pullPolicy }}
  command:
    - node
    - -e
    - |
      const net = require('node:net');
      const first = (process.env.WEFT_NATS_URL || '').split(',')[0].trim();
      const url = new URL(first.includes('://') ? first : `nats://${first}`);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = Number(url.port || 4222);
      const attempt = () => {
        const socket = net.connect({ host, port, timeout: 2000 });
        let done = false;
        const retry = (reason) => {
          if (done) return;
          done = true;
          socket.destroy();
          console.log(`waiting for NATS at ${host}:${port}: ${reason}`);
          setTimeout(attempt, 2000);
        };
        socket.once('connect', () => {
          done = true;
          socket.destroy();
          console.log(`NATS at ${host}:${port} accepts connections`);
        });
        socket.once('error', (err) => retry(err.message));
        socket.once('timeout', () => retry('timed out'));
      };
      attempt();
  env:
    - name: WEFT_NATS_URL
      value: {{ include "weft.natsUrl" .root | quote }}
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      cpu: 100m
      memory: 128Mi
  securityContext:
    {{- toYaml .root.Values.containerSecurityContext | nindent 4 }}
{{- end -}}

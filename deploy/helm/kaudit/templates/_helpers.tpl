{{/*
Base name of every object. Suffixes ("-ingest", "-setup", "-clusters": at most 10 characters) are
appended to it, so it is cut to 53 characters and every name stays within Kubernetes' 63.
*/}}
{{- define "kaudit.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 53 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "kaudit" .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 53 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kaudit.labels" -}}
app.kubernetes.io/name: {{ default "kaudit" .Values.nameOverride | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* Selector of one component: (dict "root" $ "component" "ingest"). */}}
{{- define "kaudit.selector" -}}
app.kubernetes.io/name: {{ default "kaudit" .root.Values.nameOverride | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .root.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The clusters.yaml Secret: the user's, or the one the chart renders from ingest.clusters.inline. */}}
{{- define "kaudit.clustersSecret" -}}
{{- if .Values.ingest.clusters.existingSecret -}}
{{- .Values.ingest.clusters.existingSecret -}}
{{- else -}}
{{- include "kaudit.fullname" . }}-clusters
{{- end -}}
{{- end -}}

{{/* An env var from a Secret key: (dict "name" "X" "secret" "s" "key" "k"). */}}
{{- define "kaudit.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{/* Environment every kaudit process gets; credentials are added per role where needed. */}}
{{- define "kaudit.commonEnv" -}}
- name: NODE_ENV
  value: production
- name: KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: HTTP_HOST
  value: "0.0.0.0"
{{- end -}}

{{/* ClickHouse endpoint (no credentials). */}}
{{- define "kaudit.clickhouseEnv" -}}
- name: CLICKHOUSE_URL
  value: {{ .Values.clickhouse.url | quote }}
- name: CLICKHOUSE_DATABASE
  value: {{ .Values.clickhouse.database | quote }}
{{- end -}}

{{/* Pod-level settings shared by the Deployments and the setup Job. */}}
{{- define "kaudit.podSpecCommon" -}}
# kaudit never calls the Kubernetes API: no token in any pod.
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

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

{{/* ClickHouse endpoint, its TLS files and cluster (no credentials). */}}
{{- define "kaudit.clickhouseEnv" -}}
{{- $ch := .Values.clickhouse -}}
- name: CLICKHOUSE_URL
  value: {{ $ch.url | quote }}
- name: CLICKHOUSE_DATABASE
  value: {{ $ch.database | quote }}
{{- if $ch.tls.caSecret }}
- name: CLICKHOUSE_CA_FILE
  value: /etc/kaudit/clickhouse-ca/{{ $ch.tls.caKey }}
{{- end }}
{{- if $ch.tls.clientCertSecret }}
- name: CLICKHOUSE_CERT_FILE
  value: /etc/kaudit/clickhouse-client/tls.crt
- name: CLICKHOUSE_KEY_FILE
  value: /etc/kaudit/clickhouse-client/tls.key
{{- end }}
{{- if $ch.cluster }}
- name: CLICKHOUSE_CLUSTER
  value: {{ $ch.cluster | quote }}
{{- end }}
{{- end -}}

{{/* Mounts and volumes of the ClickHouse TLS Secrets, for the pods that talk to ClickHouse. */}}
{{- define "kaudit.clickhouseVolumeMounts" -}}
{{- $tls := .Values.clickhouse.tls -}}
{{- if $tls.caSecret }}
- { name: clickhouse-ca, mountPath: /etc/kaudit/clickhouse-ca, readOnly: true }
{{- end }}
{{- if $tls.clientCertSecret }}
- { name: clickhouse-client, mountPath: /etc/kaudit/clickhouse-client, readOnly: true }
{{- end }}
{{- end -}}
{{- define "kaudit.clickhouseVolumes" -}}
{{- $tls := .Values.clickhouse.tls -}}
{{- if $tls.caSecret }}
- name: clickhouse-ca
  secret: { secretName: {{ $tls.caSecret }}, items: [{ key: {{ $tls.caKey }}, path: {{ $tls.caKey }} }] }
{{- end }}
{{- if $tls.clientCertSecret }}
- name: clickhouse-client
  secret: { secretName: {{ $tls.clientCertSecret }}, items: [{ key: tls.crt, path: tls.crt }, { key: tls.key, path: tls.key }] }
{{- end }}
{{- end -}}

{{/*
Kafka TLS and SASL of one component: (dict "root" $ "component" "ingest"). Each component signs in as its
own Kafka user (kafka.sasl.users.<component>), so broker ACLs can hold it to its topics.
*/}}
{{- define "kaudit.kafkaSecurityEnv" -}}
{{- $k := .root.Values.kafka -}}
{{- if $k.tls.enabled }}
- name: KAFKA_SSL
  value: "true"
{{- if $k.tls.caSecret }}
- name: KAFKA_SSL_CA_FILE
  value: /etc/kaudit/kafka-ca/{{ $k.tls.caKey }}
{{- end }}
{{- if $k.tls.clientCertSecret }}
- name: KAFKA_SSL_CERT_FILE
  value: /etc/kaudit/kafka-client/tls.crt
- name: KAFKA_SSL_KEY_FILE
  value: /etc/kaudit/kafka-client/tls.key
{{- end }}
{{- if $k.tls.servername }}
- name: KAFKA_SSL_SERVERNAME
  value: {{ $k.tls.servername | quote }}
{{- end }}
{{- end }}
{{- if $k.sasl.mechanism }}
{{- $user := index $k.sasl.users .component }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ $user.username | quote }}
{{ include "kaudit.secretEnv" (dict "name" "KAFKA_SASL_PASSWORD" "secret" $k.sasl.existingSecret "key" $user.passwordKey) }}
{{- end }}
{{- end -}}

{{/* Mounts and volumes of the Kafka TLS Secrets (every pod talks to Kafka). */}}
{{- define "kaudit.kafkaVolumeMounts" -}}
{{- $tls := .Values.kafka.tls -}}
{{- if and $tls.enabled $tls.caSecret }}
- { name: kafka-ca, mountPath: /etc/kaudit/kafka-ca, readOnly: true }
{{- end }}
{{- if and $tls.enabled $tls.clientCertSecret }}
- { name: kafka-client, mountPath: /etc/kaudit/kafka-client, readOnly: true }
{{- end }}
{{- end -}}
{{- define "kaudit.kafkaVolumes" -}}
{{- $tls := .Values.kafka.tls -}}
{{- if and $tls.enabled $tls.caSecret }}
- name: kafka-ca
  secret: { secretName: {{ $tls.caSecret }}, items: [{ key: {{ $tls.caKey }}, path: {{ $tls.caKey }} }] }
{{- end }}
{{- if and $tls.enabled $tls.clientCertSecret }}
- name: kafka-client
  secret: { secretName: {{ $tls.clientCertSecret }}, items: [{ key: tls.crt, path: tls.crt }, { key: tls.key, path: tls.key }] }
{{- end }}
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

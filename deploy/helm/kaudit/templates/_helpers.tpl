{{- define "kaudit.fullname" -}}
{{- printf "%s-kaudit" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kaudit.labels" -}}
app.kubernetes.io/name: kaudit
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Environment every kaudit process gets: engines and their credentials. */}}
{{- define "kaudit.commonEnv" -}}
- name: KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: CLICKHOUSE_URL
  value: {{ .Values.clickhouse.url | quote }}
- name: CLICKHOUSE_DATABASE
  value: {{ .Values.clickhouse.database | quote }}
- name: CLICKHOUSE_USER
  value: {{ .Values.clickhouse.user | quote }}
- name: CLICKHOUSE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.clickhouse.passwordSecret }}
      key: password
- name: KAUDIT_RETENTION_DAYS
  value: {{ .Values.retentionDays | quote }}
- name: HTTP_HOST
  value: "0.0.0.0"
- name: HTTP_PORT
  value: "8080"
{{- end -}}

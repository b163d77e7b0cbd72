{{/* Name of the chart, overridable. */}}
{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified app name: the release name, with the chart name unless it already contains it. */}}
{{- define "gatehouse.fullname" -}}
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

{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gatehouse
{{- end -}}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The SQLite store keeps its file on the pod's volume: exactly one replica. */}}
{{- define "gatehouse.validate" -}}
{{- $driver := .Values.store.driver -}}
{{- if not (has $driver (list "sqlite" "postgres")) -}}
{{- fail (printf "store.driver must be sqlite or postgres, not %q" $driver) -}}
{{- end -}}
{{- if and (eq $driver "sqlite") (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) -}}
{{- fail "store.driver sqlite keeps the store in one file on one volume: it allows exactly one replica (replicaCount: 1, autoscaling.enabled: false); use store.driver postgres for more" -}}
{{- end -}}
{{- if and (eq $driver "postgres") (not .Values.store.postgres.urlSecret.name) -}}
{{- fail "store.driver postgres needs store.postgres.urlSecret.name (an existing Secret with the connection URL)" -}}
{{- end -}}
{{- if and .Values.redis.enabled (not .Values.redis.urlSecret.name) -}}
{{- fail "redis.enabled needs redis.urlSecret.name (an existing Secret with the Redis URL)" -}}
{{- end -}}
{{- if .Values.config.redis -}}
{{- fail "set Redis under redis: at the top level of the values (enabled, urlSecret, options), not under config" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (eq (kindIs "invalid" .Values.podDisruptionBudget.minAvailable) (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) -}}
{{- fail "podDisruptionBudget: set exactly one of minAvailable and maxUnavailable" -}}
{{- end -}}
{{- if and .Values.config.server .Values.config.server.tls (eq (toString .Values.config.server.tls.clientCertificates) "require") -}}
{{- fail "config.server.tls.clientCertificates: require would fail the kubelet's probes (they present no client certificate); use request (the mtls provider accepts only certificates that chain to caFile either way)" -}}
{{- end -}}
{{- if .Values.config.dataDir -}}
{{- fail "set dataDir at the top level of the values, not under config" -}}
{{- end -}}
{{- if .Values.config.store -}}
{{- fail "set the store under store: at the top level of the values, not under config" -}}
{{- end -}}
{{- end -}}

{{/* The Gatehouse config file: values.config with the chart-owned keys set. */}}
{{- define "gatehouse.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $server := default (dict) $config.server -}}
{{- $_ := set $server "public" (dict "host" "0.0.0.0" "port" (int .Values.ports.http)) -}}
{{- $_ := set $server "internal" (dict "host" "0.0.0.0" "port" (int .Values.ports.metrics)) -}}
{{- $_ := set $config "server" $server -}}
{{- $_ := set $config "dataDir" .Values.dataDir -}}
{{- $store := dict "driver" .Values.store.driver -}}
{{- if and (eq .Values.store.driver "sqlite") .Values.store.sqlite.path -}}
{{- $_ := set $store "path" .Values.store.sqlite.path -}}
{{- end -}}
{{- if eq .Values.store.driver "postgres" -}}
{{- $store = merge $store (deepCopy (default (dict) .Values.store.postgres.options)) -}}
{{- $_ := set $store "urlFile" (printf "/var/run/secrets/gatehouse/store/%s" .Values.store.postgres.urlSecret.key) -}}
{{- end -}}
{{- $_ := set $config "store" $store -}}
{{- if .Values.redis.enabled -}}
{{- $redis := deepCopy (default (dict) .Values.redis.options) -}}
{{- $_ := set $redis "urlFile" (printf "/var/run/secrets/gatehouse/redis/%s" .Values.redis.urlSecret.key) -}}
{{- $_ := set $config "redis" $redis -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* HTTPS when the public listener serves TLS itself. */}}
{{- define "gatehouse.scheme" -}}
{{- if and .Values.config.server .Values.config.server.tls -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{- define "gatehouse.secretVolumeName" -}}
{{- printf "secret-%s" . | lower | replace "_" "-" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "modelops.name" -}}modelops-operator{{- end -}}

{{- define "modelops.labels" -}}
app.kubernetes.io/name: {{ include "modelops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "modelops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "modelops.fullname" -}}{{ printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}

{{- /* What the controllers do, on what: the rules of the ClusterRole, or of each namespace's Role. */ -}}
{{- define "modelops.rules" -}}
- apiGroups: [modelops.dev]
  resources: [trainingjobs, modelversions, driftmonitors]
  verbs: [get, list, watch]
- apiGroups: [modelops.dev]
  # ModelVersions are registered by gated TrainingJobs; TrainingJobs are started by DriftMonitor retraining.
  resources: [trainingjobs, modelversions]
  verbs: [create, patch]
- apiGroups: [modelops.dev]
  resources: [trainingjobs/status, modelversions/status, driftmonitors/status]
  verbs: [get, update, patch]
- apiGroups: [modelops.dev]
  # Setting blockOwnerDeletion on a child needs update on the owner's finalizers.
  resources: [trainingjobs/finalizers, modelversions/finalizers, driftmonitors/finalizers]
  verbs: [update]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [autoscaling]
  # The HPA of a stable ModelVersion that asks for autoscaling.
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [gateway.networking.k8s.io]
  # Canary weights: the operator's own HTTPRoute per model (apply), or an existing one's rules (update).
  resources: [httproutes]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [resource.k8s.io]
  resources: [resourceclaimtemplates]
  verbs: [get, list, watch, create, delete]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

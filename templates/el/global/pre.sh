{{- if .user -}}
# Create the service account before the files it owns are unpacked.
getent group {{.user}} >/dev/null 2>&1 || groupadd -r {{.user}}
getent passwd {{.user}} >/dev/null 2>&1 || useradd -r -g {{.user}} -d {{.etcdir}} -s /sbin/nologin -c "{{.name}} service account" {{.user}}
exit 0
{{- end}}

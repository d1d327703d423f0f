{{- if .services -}}
# Plain-shell %systemd_preun: stop and disable on erase ($1 = 0), not on
# upgrade.
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl --no-reload disable --now{{range split .services}} {{$.name}}-{{.}}.service{{end}} >/dev/null 2>&1 || :
fi
{{- end}}

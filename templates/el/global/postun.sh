{{- if .services -}}
# Plain-shell %systemd_postun_with_restart: reload units, and on upgrade
# ($1 >= 1) restart the daemons that were running.
if command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart{{range split .services}} {{$.name}}-{{.}}.service{{end}} >/dev/null 2>&1 || :
    fi
fi
{{- end}}

{{- if .services -}}
# Plain-shell %systemd_post: nfpm has no rpm macros. systemd's own file
# trigger reloads units on EL8+; reloading here as well covers EL7 and
# hosts without it. Presets are applied on first install only ($1 = 1).
if command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl --no-reload preset{{range split .services}} {{$.name}}-{{.}}.service{{end}} >/dev/null 2>&1 || :
    fi
fi
{{- end}}

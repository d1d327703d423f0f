{{- if .services -}}
# Plain-shell %systemd_preun of EL7 (systemd 219 has no "disable --now"):
# disable, then stop, on erase ($1 = 0), not on upgrade.
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl --no-reload disable{{range split .services}} {{$.name}}-{{.}}.service{{end}} >/dev/null 2>&1 || :
    systemctl stop{{range split .services}} {{$.name}}-{{.}}.service{{end}} >/dev/null 2>&1 || :
fi
{{- end}}

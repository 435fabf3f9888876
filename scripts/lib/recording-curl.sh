# Sourced by scripts/lib/e2e-readme.mjs before the README walkthrough: `curl` records each call
# (time in ms, HTTP status, arguments, body; base64) in $E2E_CURL_LOG and prints the body exactly
# as the real curl would, so the walkthrough itself runs unchanged.
set -e
curl() {
  local out status
  out=$(command curl -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  printf '%s %s %s %s\n' "$(date +%s%3N)" "$status" "$(printf '%s' "$*" | base64 -w0)" \
    "$(printf '%s' "$out" | base64 -w0)" >>"$E2E_CURL_LOG"
  printf '%s' "$out"
}

# The programs and configs of bench/metrics.sh, sourced by it: setup_case CASE writes
# $W/CASE/progs/*.mtail and $W/CASE/sluice.yaml (inputs $ACCESS or $CARD).

# mtail_regex: the regex of $MTAIL_EXAMPLE, its /.../ + fragments joined (slashes stay \/).
mtail_regex() {
  grep '^/' "$MTAIL_EXAMPLE" | sed -E 's#^/(.*)/ *(\+|\{).*$#\1#' | tr -d '\n'
}

# The 32 regexes of case c: the kind of things counted in access logs, each a counter. Slashes are
# escaped for mtail; Go's regexp takes \/ as a slash too. About half start with a literal (which
# Go's regexp already skips to), the others have their literal inside or in alternatives.
REGEXES32=(
  '"GET \/api\/v1\/users' '"POST \/api\/v1\/orders\/' '" 5\d\d ' '" 404 ' 'Googlebot' 'bingbot'
  '\/wp-login\.php' 'python-requests' '"(PUT|DELETE) ' 'HTTP\/1\.0"' 'HTTP\/2\.0"' 'curl\/\d+\.\d+'
  '\/static\/[a-z]+\.(js|css)' '\?id=\d{5} ' '" 30[12] ' '" 304 -' '^10\.0\.0\.\d+ '
  '\[\d\d\/Jan\/2026:0[0-5]:' '"https:\/\/www\.google\.com\/search\?q=[^"]*"' 'Firefox\/\d+'
  'Chrome\/1[0-9][0-9]\.' 'Safari\/\d+\.\d+"$' '" (401|403) ' '\/healthz HTTP' 'Prometheus\/\d'
  '"OPTIONS ' '\/login HTTP\/1\.1" 200' '\/search\?id=\d+' ' - (alice|bob|carol) \['
  '"HEAD [^ ]+ HTTP' '\/images\/[^ ]+\.png' '(Windows NT|Macintosh)'
)

yaml_head() { # INPUT [MAX_SERIES]
  cat <<YAML
data_dir: $d/data
api: { listen: "127.0.0.1:0" }
log: { level: warn }
sources:
  in: { type: file, include: [ "$1" ], read_from: beginning }
metrics:
  max_series: ${2:-100000}
  rules:
YAML
}

setup_case() {
  local c=$1 d=$W/$1 re labels i
  [ -d "$d" ] && return
  mkdir -p "$d/progs"
  re=$(mtail_regex)
  labels='{ request_method: request_method, http_version: http_version, request_status: request_status }'
  case $c in
    a)
      cp "$MTAIL_EXAMPLE" "$d/progs/"
      yaml_head "$ACCESS" >"$d/sluice.yaml"
      cat >>"$d/sluice.yaml" <<'YAML'
    - name: apache_http_requests_total
      type: counter
      inputs: [ access ]
      labels: { request_method: method, http_version: protocol, request_status: status }
    - name: apache_http_bytes_total
      type: counter
      inputs: [ access ]
      condition: 'body_bytes_sent > 0'
      value: body_bytes_sent
      labels: { request_method: method, http_version: protocol, request_status: status }
transforms:
  access: { type: parse, inputs: [ in ], format: apache_combined }
YAML
      ;;
    b)
      cp "$MTAIL_EXAMPLE" "$d/progs/"
      yaml_head "$ACCESS" >"$d/sluice.yaml"
      # Both rules take mtail's regex as it is, so sluice runs it once per line for both (rules
      # with the same inputs and regex share one evaluation); a "-" size leaves the response_size
      # capture out of the match, which skips the line for the bytes rule, as mtail's
      # `$response_size > 0` guard does.
      cat >>"$d/sluice.yaml" <<YAML
    - name: apache_http_requests_total
      type: counter
      inputs: [ in ]
      regex: '$re'
      labels: $labels
    - name: apache_http_bytes_total
      type: counter
      inputs: [ in ]
      regex: '$re'
      value: response_size
      labels: $labels
YAML
      ;;
    c)
      yaml_head "$ACCESS" >"$d/sluice.yaml"
      for i in "${!REGEXES32[@]}"; do
        printf 'counter re%02d_total\n' "$i" >>"$d/progs/regexes32.mtail"
        printf "    - { name: re%02d_total, type: counter, inputs: [ in ], regex: '%s' }\n" "$i" "${REGEXES32[$i]}" >>"$d/sluice.yaml"
      done
      for i in "${!REGEXES32[@]}"; do
        printf '/%s/ {\n  re%02d_total++\n}\n' "${REGEXES32[$i]}" "$i" >>"$d/progs/regexes32.mtail"
      done
      ;;
    d|dcap)
      local max=0 budget=$((DISTINCT + 1000))
      [ "$c" = dcap ] && max=$CAP
      printf 'counter apache_http_requests_by_client_total by hostname, request_method, request_status\n/%s/ {\n  apache_http_requests_by_client_total[$hostname][$request_method][$request_status]++\n}\n' \
        "$re" >"$d/progs/clients.mtail"
      yaml_head "$CARD" "$budget" >"$d/sluice.yaml"
      cat >>"$d/sluice.yaml" <<'YAML'
    - name: apache_http_requests_by_client_total
      type: counter
      inputs: [ access ]
      labels: { hostname: remote_addr, request_method: method, request_status: status }
YAML
      echo "      max_series: $max" >>"$d/sluice.yaml"
      echo "transforms: { access: { type: parse, inputs: [ in ], format: apache_combined } }" >>"$d/sluice.yaml"
      ;;
    *) die "unknown case $c" ;;
  esac
}

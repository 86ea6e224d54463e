# Sourced by the benchmarks that talk to a running GridSafe: a free port, waiting for the server
# to be ready, and a signed-in session of the demo's safety auditor.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() { # base-url
  for _ in $(seq 100); do curl -fsS "$1/readyz" >/dev/null 2>&1 && return; sleep 0.2; done
}

sign_in() { # base-url cookie-jar -> the Cookie header value of demo.safety's session
  curl -fsS -c "$2" -o /dev/null -H 'Sec-Fetch-Site: same-origin' \
    --data-urlencode username=demo.safety --data-urlencode password=Demo-2026-gs "$1/login" || return
  echo "gs_session=$(awk '$6 == "gs_session" {print $7}' "$2")"
}

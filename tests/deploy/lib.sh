# What the deployment tests share. Source it.

# starts_on_config BINARY CONFIG WORKDIR: the binary starts on the options file (listening on
# 127.0.0.1 whatever the file says) and stops cleanly on SIGTERM. Prints why not and returns 1.
starts_on_config() {
  local bin=$1 config=$2 work=$3 name
  name=$(basename "$bin")
  mkdir -p "$work"
  "$bin" --config "$config" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
    --data-dir "$work/data" >"$work/out" 2>"$work/log" &
  local pid=$! ok=0
  for _ in $(seq 1 100); do  # polls for the line, up to 10 s
    grep -q "^listening on" "$work/out" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "^listening on" "$work/out"; then
    echo "$name does not start with $config:"
    cat "$work/log"
    ok=1
  fi
  kill -TERM $pid 2>/dev/null || true
  wait $pid || { echo "$name did not stop cleanly"; ok=1; }
  return $ok
}

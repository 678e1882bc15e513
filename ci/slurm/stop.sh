#!/usr/bin/env bash
# Stop the single-node test cluster started by ci/slurm/start.sh (slurmd, slurmctld, munged).
# The generated configuration and the job state stay, so start.sh brings the same cluster back.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "Error: ci/slurm/stop.sh: must run as root" >&2; exit 1; }

stop() {  # stop NAME PIDFILE: TERM the daemon by its pid file, wait until it is gone
  local name="$1" pidfile="$2" pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do  # gone, or a zombie waiting for its parent
    [ -r "/proc/$pid/stat" ] && [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ] || return 0
    sleep 0.1
  done
  echo "Error: ci/slurm/stop.sh: $name (pid $pid) still running after 10s" >&2
  return 1
}
stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
stop munged /run/munge/munged.pid
echo "ci/slurm: stopped"

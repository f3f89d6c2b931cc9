#!/bin/sh
# Leader of the VS Code server's process group, and its watchdog.
#
# usage: server-group.sh OWNER_PID CLEAN_DIR -- COMMAND [ARGS...]
#
# server.mjs spawns this script detached, so it leads a new process group that contains the server and
# every helper the server forks (extension host, file watcher, pty host). It runs COMMAND and:
#   - exits with COMMAND's status when COMMAND exits on its own;
#   - when OWNER_PID (the Node process that started us) disappears without stopping us, e.g. because it
#     was killed with SIGKILL, kills the whole group and removes CLEAN_DIR, so nothing is left behind.
# A normal stop is the owner killing the group (SIGTERM, then SIGKILL); this script takes part in that.

owner=$1
clean_dir=$2
shift 3

"$@" &
child=$!

# A handled (not ignored) TERM: the child keeps the default disposition, and we exit once it is gone.
# (dash, the usual /bin/sh, needs the `kill -s SIG -- -PGID` form for process groups.)
trap 'stopping=1' TERM INT HUP

while kill -0 "$child" 2>/dev/null; do
  if [ -z "$stopping" ] && ! kill -0 "$owner" 2>/dev/null; then
    # Our stderr is a pipe to the dead owner: writing to it must not kill us with SIGPIPE.
    trap '' PIPE
    echo "[kestrel host] owner process $owner is gone: stopping the VS Code server" >&2
    kill -s TERM -- "-$$" 2>/dev/null
    sleep 3
    # Whatever ignored TERM: SIGKILL every other member of our group (found through /proc, since
    # procps may not be installed), then remove the folder nothing writes to any more.
    for dir in /proc/[0-9]*; do
      pid=${dir#/proc/}
      [ "$pid" = "$$" ] && continue
      stat=$(cat "$dir/stat" 2>/dev/null) || continue
      # stat is "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after the last ')'.
      set -- ${stat##*) }
      [ "$3" = "$$" ] && kill -s KILL "$pid" 2>/dev/null
    done
    sleep 1
    [ -n "$clean_dir" ] && rm -rf -- "$clean_dir"
    exit 1
  fi
  sleep 1
done

wait "$child"

# tests/lib-redis.sh - a throw-away redis-server for tests: 127.0.0.1, a free
# port, no persistence, in the foreground of a background job, stopped by
# its PID. Source it (bash), then:
#
#   redis_start || exit 1     # sets REDIS_PID REDIS_PORT REDIS_URL REDIS_DIR
#   redis_cli SET k v         # redis-cli against it
#   redis_pause / redis_resume   SIGSTOP / SIGCONT
#   redis_kill                SIGKILL (same port kept for redis_restart)
#   redis_restart             a new server on the same port (after redis_kill)
#   redis_stop                kill by PID, wait, remove REDIS_DIR; always safe
#
# Call redis_stop from your own EXIT trap (tests/mount/lib.sh's t_cleanup);
# when nothing else set an EXIT trap, redis_start installs one. Extra
# redis-server options: REDIS_ARGS (e.g. "--maxmemory 1mb
# --maxmemory-policy allkeys-lru"). A missing redis-server is an error
# with a clear message, never a skip: CI installs it
# (contrib/install-deps.sh).

REDIS_PID=
REDIS_PORT=
REDIS_URL=
REDIS_DIR=
REDIS_ARGS=${REDIS_ARGS:-}

redis_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# redis_ping: 0 when the server answers PONG within 0.5 s (redis-cli 7.0 has no
# timeout option: coreutils timeout bounds it).
redis_ping() {
	[ "$(timeout 0.5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ]
}

redis_cli() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

# redis_spawn: starts the server on REDIS_PORT and waits (10 s at most)
# until it answers PING.
redis_spawn() {
	local i
	# shellcheck disable=SC2086
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
		--daemonize no --dir "$REDIS_DIR" --loglevel warning $REDIS_ARGS \
		>>"$REDIS_DIR/redis.log" 2>&1 &
	REDIS_PID=$!
	for i in $(seq 1 500); do
		if redis_ping; then
			return 0
		fi
		if ! kill -0 "$REDIS_PID" 2>/dev/null; then
			echo "lib-redis: redis-server exited at start-up:" >&2
			tail -5 "$REDIS_DIR/redis.log" >&2
			REDIS_PID=
			return 1
		fi
		sleep 0.02
	done
	echo "lib-redis: redis-server on port $REDIS_PORT did not answer PING in 10 s" >&2
	return 1
}

redis_start() {
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		echo "lib-redis: redis-server/redis-cli not installed: run contrib/install-deps.sh" \
			"(Debian package redis-server)" >&2
		return 1
	fi
	if [ -z "$(trap -p EXIT)" ]; then
		trap redis_stop EXIT
	fi
	REDIS_DIR=$(mktemp -d /tmp/gcf-redis.XXXXXX) || return 1
	REDIS_PORT=$(redis_free_port) || return 1
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
	redis_spawn
}

redis_pause() {
	[ -n "$REDIS_PID" ] && kill -STOP "$REDIS_PID"
}

redis_resume() {
	[ -n "$REDIS_PID" ] && kill -CONT "$REDIS_PID"
}

redis_kill() {
	if [ -n "$REDIS_PID" ]; then
		kill -KILL "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
		REDIS_PID=
	fi
}

redis_restart() {
	redis_kill
	redis_spawn
}

redis_stop() {
	redis_kill
	if [ -n "$REDIS_DIR" ]; then
		rm -rf "$REDIS_DIR"
		REDIS_DIR=
	fi
}

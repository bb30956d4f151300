/*
 * fleet_lua.h - the Lua scripts fs/fleet.c runs in Redis (EVALSHA, with
 * EVAL when Redis answers NOSCRIPT after a restart or SCRIPT FLUSH).
 * Private to fleet.c. Every script that reads the clock uses Redis's own
 * (TIME), so hosts with skewed clocks share one timeline.
 */
#ifndef GCF_FLEET_LUA_H
#define GCF_FLEET_LUA_H

/*
 * GCRA. KEYS[1] the limiter key; ARGV[1] the emission interval T and
 * ARGV[2] the tolerance tau = (burst - 1) * T, both in microseconds.
 * The key holds the theoretical arrival time (TAT) in Redis microseconds.
 * Returns 0 when a slot was taken, else how many microseconds until one can
 * be. At most burst slots at once, then one per T: never more than
 * rate + burst - 1 in any 1 s window.
 */
static const char fleet_lua_rate[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local T = tonumber(ARGV[1])\n"
    "local tau = tonumber(ARGV[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]))\n"
    "if tat == nil or tat < now then tat = now end\n"
    "if tat - tau > now then return tat - tau - now end\n"
    "local ntat = tat + T\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', ntat), 'PX',\n"
    "           math.floor((ntat - now) / 1000) + 1000)\n"
    "return 0\n";

/*
 * Lease acquire. KEYS[1] the lease, KEYS[2] the last holder's token (kept
 * after the lease expires, deleted by a release). ARGV[1] token, ARGV[2]
 * lease TTL ms, ARGV[3] TTL ms of KEYS[2]. Returns 0 (held by another),
 * 1 (acquired), 2 (acquired from a holder that never released: takeover).
 */
static const char fleet_lua_lease_acquire[] =
    "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end\n"
    "local prev = redis.call('GET', KEYS[2])\n"
    "redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])\n"
    "if prev then return 2 end\n"
    "return 1\n";

/* Lease renew: PEXPIRE both keys only if KEYS[1] still holds ARGV[1].
 * ARGV[2] lease TTL ms, ARGV[3] TTL ms of KEYS[2]. 1 renewed, 0 lost. */
static const char fleet_lua_lease_renew[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
					    "  redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
					    "  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
					    "end\n"
					    "return 0\n";

/* Lease release: DEL both keys only if KEYS[1] still holds ARGV[1].
 * 1 released, 0 not ours. */
static const char fleet_lua_lease_release[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
					      "  redis.call('DEL', KEYS[2])\n"
					      "  return redis.call('DEL', KEYS[1])\n"
					      "end\n"
					      "return 0\n";

/* Heartbeat. KEYS[1] the hosts sorted set; ARGV[1] host id, ARGV[2] how
 * long a member counts (ms). Returns the number of live hosts. */
static const char fleet_lua_heartbeat[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "redis.call('ZADD', KEYS[1], now, ARGV[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "return redis.call('ZCARD', KEYS[1])\n";

#endif

-- peers-appctx-3.0: a deliberately slow converter that holds its thread (and so the peers sync task
-- queued on it) for `ms` milliseconds of wall time. /proc/uptime is read because os.clock() counts
-- CPU time and core.now() does not advance inside one converter call. Keep ms < 2000 (watchdog).
local function uptime_ms()
    local f = io.open("/proc/uptime", "r")
    local s = f:read("*n")
    f:close()
    return s * 1000
end

core.register_converters("busy_ms", function(smp, ms)
    local target = uptime_ms() + tonumber(ms)
    while uptime_ms() < target do end
    return smp
end)

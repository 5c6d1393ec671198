-- lua-filter-2.9 (haproxy#2467): filter "rt", loaded with `lua-load-per-thread` (one unlocked Lua
-- state per thread). Its name differs from flt_global.lua's "rg": one name in both loaders is a
-- configuration error since 4aefffc38. Used with "rg" on the same stream (mixed loading).
local Filter = { id = "rt", flags = 0 }
Filter.__index = Filter

local created = 0                          -- per thread: each thread's state has its own counter

function Filter:new()
    created = created + 1
    local f = { bag = {} }
    for i = 1, 4 do f.bag[i] = { i, tostring(i) } end
    return setmetatable(f, Filter)
end

function Filter:start_analyze(txn, chn) return filter.CONTINUE end
function Filter:end_analyze(txn, chn) return filter.CONTINUE end

core.register_filter("rt", Filter, function(f, args) return f end)

-- `repro thread`: the same counters, of the state of the thread that serves the CLI command.
core.register_cli({"repro", "thread"}, "lua-filter-2.9: rt filters created, this thread's Lua heap KB",
    function(applet, w1, w2, what)
        if what == "gc" then collectgarbage("collect") end
        applet:send(string.format("created=%d heap_kb=%.0f\n", created, collectgarbage("count")))
    end)

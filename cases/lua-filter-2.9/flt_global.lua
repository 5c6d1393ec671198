-- lua-filter-2.9 (haproxy#2467): filter "rg", loaded with `lua-load` into the shared Lua state
-- (state 0: one lock for every thread). Lua runs when the filter is attached to a stream (new),
-- in the analyze callbacks, and the stream's Lua contexts are released at detach.
local Filter = { id = "rg", flags = 0 }   -- flags 0: a TCP filter (no filter.FLT_CFG_FL_HTX)
Filter.__index = Filter

local created = 0                          -- new() calls: proof that streams went through the filter

function Filter:new()
    created = created + 1
    local f = { bag = {} }
    for i = 1, 4 do f.bag[i] = { i, tostring(i) } end   -- a few objects per stream keep the GC busy
    return setmetatable(f, Filter)
end

function Filter:start_analyze(txn, chn) return filter.CONTINUE end
function Filter:end_analyze(txn, chn) return filter.CONTINUE end

core.register_filter("rg", Filter, function(f, args) return f end)

-- `repro global`: filters created and the shared heap (KB); `repro global gc` collects first.
core.register_cli({"repro", "global"}, "lua-filter-2.9: rg filters created, shared Lua heap KB",
    function(applet, w1, w2, what)
        if what == "gc" then collectgarbage("collect") end
        applet:send(string.format("created=%d heap_kb=%.0f\n", created, collectgarbage("count")))
    end)

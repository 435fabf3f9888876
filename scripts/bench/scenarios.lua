-- wrk script for `npm run bench` and `npm run profile`:
--   wrk -t2 -c32 -d10s -s scripts/bench/scenarios.lua URL -- SCENARIO
-- SCENARIO: floor | health | cached | strong | verify | bulk | grant. Each request draws a random
-- member (and equipment, or held skill). Env: BENCH_TOKEN (bearer), BENCH_DATA (a directory with
-- users.txt, equipment.txt, held.txt = "user skill_id" lines), BENCH_MAKERSPACE.
-- Prints one line `RESULT {json}`: requests, rps, latency percentiles, and statuses by class.
local scenario = "health"
local users, equipment, held = {}, {}, {}
local makerspace = os.getenv("BENCH_MAKERSPACE") or "ms-bench"
local threads = {}

local function lines(path)
  local t = {}
  local f = io.open(path, "r")
  if not f then return t end
  for l in f:lines() do if #l > 0 then t[#t + 1] = l end end
  f:close()
  return t
end

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

function init(args)
  scenario = args[1] or "health"
  local dir = os.getenv("BENCH_DATA") or "."
  users, equipment, held = lines(dir .. "/users.txt"), lines(dir .. "/equipment.txt"), lines(dir .. "/held.txt")
  math.randomseed(os.time() * 1000 + (tid or 0))
  local token = os.getenv("BENCH_TOKEN")
  if token and scenario ~= "floor" then wrk.headers["Authorization"] = "Bearer " .. token end
  wrk.headers["Content-Type"] = "application/json"
  counts = { ok = 0, denied = 0, other = 0 }
end

local function one(t) return t[math.random(#t)] end

function request()
  if scenario == "floor" then return wrk.format("GET", "/") end
  if scenario == "health" then return wrk.format("GET", "/health") end
  local user = one(users)
  if scenario == "cached" then
    return wrk.format("GET", "/api/v1/skills/access/equipment/" .. one(equipment) .. "?user_id=" .. user)
  elseif scenario == "strong" then
    return wrk.format("GET", "/api/v1/skills/access/equipment/" .. one(equipment) .. "?user_id=" .. user .. "&consistency=strong")
  elseif scenario == "verify" then
    return wrk.format("POST", "/api/v1/skills/access/equipment/" .. one(equipment) .. "/verify", nil,
      '{"user_id":"' .. user .. '"}')
  elseif scenario == "bulk" then
    return wrk.format("GET", "/api/v1/skills/access/equipment?user_id=" .. user .. "&makerspace_id=" .. makerspace)
  elseif scenario == "grant" then
    local u, s = one(held):match("^(%S+)%s+(%S+)$")
    return wrk.format("POST", "/api/v1/skills/user-skills", nil,
      '{"user_id":"' .. u .. '","skill_id":"' .. s .. '","status":"certified","notes":"bench renewal","quiz_score":"90%"}')
  end
  error("unknown scenario " .. scenario)
end

function response(status)
  if status < 300 then counts.ok = counts.ok + 1
  elseif status == 403 then counts.denied = counts.denied + 1
  else counts.other = counts.other + 1 end
end

function done(summary, latency, requests)
  local ok, denied, other = 0, 0, 0
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    ok, denied, other = ok + c.ok, denied + c.denied, other + c.other
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"ok":%d,"denied_403":%d,"other_status":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    ok, denied, other, e.connect + e.read + e.write + e.timeout))
end

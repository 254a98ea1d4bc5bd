-- wrk script for bench/run.sh. Two modes, chosen by the first argument:
--
--   wrk ... -s wrk.lua URL -- static METHOD PATH [BODY_FILE|-] [API_KEY] [HEADERS_FILE]
--       the same request every time (a GET, or a POST of BODY_FILE's bytes),
--       with the "Name: value" lines of HEADERS_FILE as headers too
--   wrk ... -s wrk.lua URL -- events TEMPLATES PER_REQUEST ID_PREFIX API_KEY [IDS]
--       POST /v1/events with PER_REQUEST events from the templates of
--       events.js (one object when 1, else an array), every id unique:
--       ID_PREFIX-THREAD-COUNTER, or with IDS "random" 16 random hex digits
--       first (ids in random order, as UUIDs are): HEX-ID_PREFIX-THREAD-COUNTER
--
-- At the end it prints one line: WRK {json} with the counts and latencies.

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local templates, per, prefix, authorization, random_ids
local counter = 0

function init(args)
  if args[1] == "static" then
    wrk.method = args[2]
    wrk.path = args[3]
    if args[4] and args[4] ~= "-" then
      wrk.body = read_file(args[4])
      wrk.headers["Content-Type"] = "application/json"
    end
    if args[5] and args[5] ~= "" then wrk.headers["Authorization"] = "Bearer " .. args[5] end
    if args[6] and args[6] ~= "" then
      for line in io.lines(args[6]) do
        local name, value = line:match("^([^:]+):%s*(.*)$")
        if name then wrk.headers[name] = value end
      end
    end
    request = nil  -- wrk then sends the one prebuilt request
    return
  end
  templates = {}
  for line in io.lines(args[2]) do
    local s, e = line:find('"@ID@"', 1, true)
    if s then templates[#templates + 1] = { line:sub(1, s), line:sub(e) } end
  end
  assert(#templates > 0, "no templates in " .. args[2])
  per = tonumber(args[3])
  prefix = args[4] .. "-" .. tostring(tid) .. "-"
  authorization = "Bearer " .. args[5]
  random_ids = args[6] == "random"
  if random_ids then math.randomseed(os.time() * 1000 + tid) end
end

-- The request head up to the Content-Length value, built once: wrk.format
-- builds every header line again for each request, and on two cores the
-- generator's CPU is taken from the server it measures.
local head

local function next_event()
  counter = counter + 1
  local t = templates[counter % #templates + 1]
  if random_ids then
    -- 64 random bits; the counter after them keeps every id unique
    local hex = string.format("%08x%08x", math.random(0, 0xffffffff), math.random(0, 0xffffffff))
    return t[1] .. hex .. "-" .. prefix .. counter .. t[2]
  end
  return t[1] .. prefix .. counter .. t[2]
end

function request()
  if not head then
    head = "POST /v1/events HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
           "\r\nContent-Type: application/json\r\nAuthorization: " .. authorization ..
           "\r\nContent-Length: "
  end
  local body
  if per == 1 then
    body = next_event()
  else
    local parts = {}
    for i = 1, per do parts[i] = next_event() end
    body = "[" .. table.concat(parts, ",") .. "]"
  end
  return head .. #body .. "\r\n\r\n" .. body
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"non2xx":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end

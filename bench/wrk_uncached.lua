-- wrk script for bench/peers.py: every request a new one, and one JSON summary line.
--
--   wrk ... -s wrk_uncached.lua URL -- START COPIES
--
-- "{V}" in the URL's path becomes a counter starting at START (a new version for pixcast:
-- a new result-cache key for the same work), "{C}" the counter modulo COPIES (a new copy
-- of a source, so its face detection is not kept from an earlier request). bench/peers.py
-- passes a START past every request it made before, so a warm-up never pre-renders what
-- the timed run asks. Use with -t1 (one counter).
local n, copies, base

init = function(args)
  base = wrk.path
  n = tonumber(args[1]) or 0
  copies = tonumber(args[2]) or 1
end

request = function()
  n = n + 1
  local path = base:gsub("{V}", tostring(n)):gsub("{C}", tostring(n % copies))
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"err_connect\":%d," ..
    "\"err_read\":%d,\"err_write\":%d,\"err_status\":%d,\"err_timeout\":%d," ..
    "\"p50_us\":%d,\"p99_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end

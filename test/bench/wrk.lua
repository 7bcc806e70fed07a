-- wrk script for test/bench/run: optional HTTP pipelining and a machine-readable summary.
--   wrk ... -s wrk.lua URL            plain GET, one request in flight per connection
--   wrk ... -s wrk.lua URL -- 16      16 requests written back to back per connection (pipelined)
--
-- Pipelining as TechEmpower does it: init() concatenates DEPTH copies of the request and
-- request() hands out that batch. `request` is only defined when DEPTH > 1, because wrk treats a
-- script that defines it as "dynamic" and calls into Lua for every batch; without it wrk sends
-- its own pre-built request and the client stays as cheap as plain wrk.

init = function(args)
  local depth = tonumber(args[1]) or 1
  if depth > 1 then
    local batch = {}
    for i = 1, depth do
      batch[i] = wrk.format()
    end
    local requests = table.concat(batch)
    request = function()
      return requests
    end
  end
end

-- One line the harness parses, instead of scraping wrk's human-readable report.
-- Latencies and duration are in microseconds; errors.status counts responses with status > 399.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'CORTADO_BENCH {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end

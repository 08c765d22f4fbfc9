-- wrk reporting hook: prints the percentiles we report (wrk's own --latency has no p95).
done = function(summary, latency, requests)
  io.write(string.format("REQS %d\n", summary.requests))
  io.write(string.format("DURATION_US %d\n", summary.duration))
  io.write(string.format("NON2XX %d\n", summary.errors.status))
  io.write(string.format("SOCKET_ERRORS %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  if report_extra then report_extra() end  -- a long-tail script's own figures
  for _, p in pairs({50, 95, 99}) do
    io.write(string.format("P%d_US %d\n", p, latency:percentile(p)))
  end
end

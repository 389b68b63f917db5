-- wrk script: keep `depth` HTTP/1.1 requests pipelined on each connection
-- (wrk -s pipeline.lua ... -- 8), so 8 connections hold 64 requests in flight.
init = function(args)
   local depth = tonumber(args[1]) or 8
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, "/health")
   end
   req = table.concat(r)
end

request = function()
   return req
end

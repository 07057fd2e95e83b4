-- wrk script: every request asks the next path of a list (one path a line), so a run is a walk of distinct
-- pages or records rather than the same URL again. Each wrk thread starts at its own share of the list and wraps
-- around at its end. Headers given with -H are sent with every request (wrk.format uses wrk.headers).
--
--   wrk -t2 -c32 -d10s --latency -s bench/paths.lua http://127.0.0.1:PORT -- paths.txt 2
--   (arguments after --: the list file, the number of wrk threads)

local threads = 0

function setup(thread)
  thread:set("share", threads)
  threads = threads + 1
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
  local count = tonumber(args[2] or "1")
  position = math.floor((share or 0) * #paths / count)
end

function request()
  position = position % #paths + 1
  return wrk.format(nil, paths[position])
end

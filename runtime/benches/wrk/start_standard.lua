-- wrk -s start_standard.lua: POST StartExecution of a STANDARD state machine, each request
-- with a new execution name. For pass3 the whole execution (three Pass states) is the
-- start step, so a 200 answer means the finished execution is durably committed: answers
-- per second are finished executions per second. Compare the server's
-- sandstep_executions_finished_total{status="SUCCEEDED"} afterwards.
-- ARN from the environment: SANDSTEP_SM_ARN (default: the pass3s machine of account 0).
local arn = os.getenv("SANDSTEP_SM_ARN")
  or "arn:aws:states:us-east-1:000000000000:stateMachine:pass3s"
local threads = 0
-- Names must be new on every run against the same server (closed executions keep theirs).
local run = os.getenv("SANDSTEP_RUN") or tostring(os.time())

setup = function(thread)
  threads = threads + 1
  thread:set("tid", run .. "-" .. threads)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartExecution"

local n = 0
request = function()
  n = n + 1
  local body = '{"stateMachineArn":"' .. arn .. '","name":"w' .. tid .. "-" .. n
    .. '","input":"{\\"n\\":1,\\"s\\":\\"hello\\"}"}'
  return wrk.format(nil, nil, nil, body)
end

local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, "executionArn", 1, true) then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected answer " .. status .. ": " .. body .. "\n") end
  end
end

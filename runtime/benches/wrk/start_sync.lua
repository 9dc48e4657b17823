-- wrk -s start_sync.lua: POST StartSyncExecution of an EXPRESS state machine.
-- ARN from the environment: SANDSTEP_SM_ARN (default: the pass3x machine of account 0).
local arn = os.getenv("SANDSTEP_SM_ARN")
  or "arn:aws:states:us-east-1:000000000000:stateMachine:pass3x"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartSyncExecution"
wrk.body = '{"stateMachineArn":"' .. arn .. '","input":"{\\"n\\":1,\\"s\\":\\"hello\\"}"}'

local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, "SUCCEEDED", 1, true) then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected answer " .. status .. ": " .. body .. "\n") end
  end
end

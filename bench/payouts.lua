-- wrk script: POST a payout to a random employment from the file named by $EMPLOYMENTS.
local ids = {}
for line in io.lines(os.getenv("EMPLOYMENTS")) do
  local _, employment = line:match("^(%S+)%s+(%S+)$")
  if employment then ids[#ids + 1] = employment end
end
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
}
local body = string.format(
  '{"payment_date":"%s","worked_from":"%s","worked_to":"%s","wage":"250.00","holiday_pay":"0.00"}',
  os.getenv("TODAY"), os.getenv("JAN1"), os.getenv("JAN1"))
math.randomseed(os.time())

request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("POST", "/api/v1/employments/" .. id .. "/payouts", headers, body)
end

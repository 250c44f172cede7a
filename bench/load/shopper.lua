-- Mixed shopper traffic for wrk: home, category, product, search, add to cart, a member's home.
-- Usage: wrk -s bench/load/shopper.lua URL -- TARGETS_FILE [healthz]
-- With "healthz" every request is GET /healthz: the bare-Django ceiling on the same server.
-- Usage for guests' pages only: wrk -s bench/load/shopper.lua URL -- TARGETS_FILE guest
-- TARGETS_FILE (written by run.sh) sets: categories, products (slug, id), queries, session, csrf.
-- Per-page latency comes from gunicorn's access log (wrk's Lua cannot time single requests).

local targets
local plan = {}
local counter = 0

-- Weights out of 100: what a shopper does most, roughly.
local MIX = { home = 25, category = 20, product = 25, search = 10, cart_add = 10, member_home = 10 }

local function pick(list)
  return list[math.random(#list)]
end

function init(args)
  targets = dofile(args[1])
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  local mix = MIX
  if args[2] == "healthz" then mix = { healthz = 1 } end
  -- With "guest" only guests' product and category pages, half each (the whole-page cache's share).
  if args[2] == "guest" then mix = { product = 1, category = 1 } end
  for page, weight in pairs(mix) do
    for _ = 1, weight do plan[#plan + 1] = page end
  end
end

local builders = {
  healthz = function()
    return wrk.format("GET", "/healthz")
  end,
  home = function()
    return wrk.format("GET", "/")
  end,
  category = function()
    return wrk.format("GET", "/c/" .. pick(targets.categories) .. "/")
  end,
  product = function()
    return wrk.format("GET", "/p/" .. pick(targets.products).slug .. "/")
  end,
  search = function()
    return wrk.format("GET", "/search/?q=" .. pick(targets.queries))
  end,
  cart_add = function()
    -- A new guest each time (no session cookie): the CSRF secret is sent as cookie and field.
    local body = "csrfmiddlewaretoken=" .. targets.csrf .. "&product_id=" .. pick(targets.products).id
      .. "&quantity=1"
    return wrk.format("POST", "/cart/add/", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = "csrftoken=" .. targets.csrf,
    }, body)
  end,
  member_home = function()
    return wrk.format("GET", "/?member=1", { ["Cookie"] = "sessionid=" .. targets.session })
  end,
}

function request()
  counter = counter + 1
  return builders[plan[(counter % #plan) + 1]]()
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "SUMMARY requests=%d duration_s=%.1f rps=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
      .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d bad_status=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status))
end

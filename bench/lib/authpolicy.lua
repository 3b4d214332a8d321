-- authpolicy.lua - wrk script for bench/run-authpolicy.sh: Dovecot auth
-- policy requests as Dovecot 2.3 sends them (protocols.md 2.2): POST
-- /?command=allow and /?command=report with a JSON body of the default
-- auth_policy_request_attributes (keys sorted, values strings, then "tls";
-- report adds "success" and "policy_reject"), the X-API-Key header.
-- Each thread builds 4096 requests before the run and sends them in turn:
-- two allow checks for every report (before and after the password check),
-- 2,000 client addresses (80 % IPv4 in 198.18.0.0/15, 20 % IPv6 in
-- 2001:db8:1::/48), 500 accounts, IMAP/POP3/SMTP, 4 % failed logins.
-- Environment: AP_KEY (the API key). done() prints one RESULT line.

local reqs = {}
local n = 0
local counter = 1
local threads = {}

function setup(thread)
	thread:set("id", counter)
	table.insert(threads, thread)
	counter = counter + 1
end

local function remote(i)
	if i % 5 == 0 then
		return string.format("2001:db8:1::%x", i)
	end
	-- LuaJIT (Lua 5.1): no bit operators
	return string.format("198.%d.%d.%d", 18 + math.floor(i / 65536) % 2,
		math.floor(i / 256) % 256, i % 256)
end

local function session()
	local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	local t = {}
	for k = 1, 16 do
		local c = math.random(1, 64)
		t[k] = chars:sub(c, c)
	end
	return table.concat(t)
end

function init(args)
	local protocols = { "imap", "imap", "imap", "pop3", "smtp" }
	local headers = {
		["Content-Type"] = "application/json",
		["X-API-Key"] = os.getenv("AP_KEY") or "bench-key",
		["User-Agent"] = "dovecot/auth-policy-client",
	}
	math.randomseed(1000 + id)
	for i = 1, 4096 do
		local addr = remote(math.random(1, 2000) * 7)
		local login = string.format("user%03d@bench.example", math.random(0, 499))
		local proto = protocols[math.random(1, #protocols)]
		local body = string.format('{"device_id":"","login":"%s","protocol":"%s",' ..
			'"pwhash":"%04x","remote":"%s","session_id":"%s"',
			login, proto, math.random(0, 4095), addr, session())
		local path
		if i % 3 == 0 then
			path = "/?command=report"
			body = body .. string.format(',"success":%s,"policy_reject":false,"tls":false}',
				math.random(1, 100) <= 96 and "true" or "false")
		else
			path = "/?command=allow"
			body = body .. ',"tls":false}'
		end
		reqs[i] = wrk.format("POST", path, headers, body)
	end
	n = 0
end

function request()
	n = n % #reqs + 1
	return reqs[n]
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT requests=%d duration_us=%d rps=%.1f " ..
		"p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d " ..
		"err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
		summary.requests, summary.duration,
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency:percentile(99.9), latency.max,
		e.connect, e.read, e.write, e.status, e.timeout))
end

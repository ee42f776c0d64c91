-- Two clients for milter_drain.sh, chosen by DRAIN_ROLE:
--   hold: keeps one message in flight (MAIL FROM given, no end of message)
--         for DRAIN_HOLD_S seconds, so the SIGTERM drain has work to wait for;
--   new:  a connection opened during the drain, whose MAIL FROM must get a
--         temporary failure at once (the caller times it).
local hold = os.getenv("DRAIN_ROLE") == "hold"
mt.set_timeout(30)
local conn = mt.connect(os.getenv("EMOGATE_SOCK"), hold and 40 or 1, 0.1)
assert(conn, "cannot connect")
assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate failed")
mt.macro(conn, SMFIC_MAIL, "i", hold and "DRN0001" or "DRN0002", "{client_addr}", "192.0.2.10")
assert(mt.mailfrom(conn, "<a@example.org>") == nil, "mailfrom failed")
if hold then
  assert(mt.getreply(conn) == SMFIR_CONTINUE, "first message not taken")
  mt.sleep(tonumber(os.getenv("DRAIN_HOLD_S")))
else
  assert(mt.getreply(conn) == SMFIR_TEMPFAIL, "no temporary failure during the drain")
end
mt.disconnect(conn)

-- A connection opened during the SIGTERM drain: its MAIL FROM must get a
-- temporary failure at once (the caller times it).
mt.set_timeout(30)
local conn = mt.connect(os.getenv("EMOGATE_SOCK"), 1, 0.1)
assert(conn, "cannot connect during the drain")
assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate failed")
mt.macro(conn, SMFIC_MAIL, "i", "DRN0002", "{client_addr}", "192.0.2.11")
assert(mt.mailfrom(conn, "<b@example.org>") == nil, "mailfrom failed")
assert(mt.getreply(conn) == SMFIR_TEMPFAIL, "no temporary failure during the drain")
mt.disconnect(conn)

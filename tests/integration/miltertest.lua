-- Protocol-level test of emogate's milter with miltertest (Debian package
-- miltertest). Run by miltertest.sh, which starts emogate and exports
-- EMOGATE_SOCK. Each block is one message on its own connection.

local sock = os.getenv("EMOGATE_SOCK")
assert(sock, "EMOGATE_SOCK not set")
mt.set_timeout(30)

local function connect()
  local conn = mt.connect(sock, 40, 0.25)
  assert(conn, "cannot connect to " .. sock)
  -- Offer everything: emogate must ask only for what it needs.
  assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate failed")
  return conn
end

local function start(conn, qid, from, rcpt)
  mt.macro(conn, SMFIC_MAIL, "i", qid, "{client_addr}", "192.0.2.10",
           "{auth_authen}", "", "{daemon_name}", "smtpd")
  assert(mt.mailfrom(conn, "<" .. from .. ">") == nil, "mailfrom failed")
  assert(mt.rcptto(conn, "<" .. rcpt .. ">") == nil, "rcptto failed")
  mt.header(conn, "From", from)
end

-- Sends the last header and a body, then expects `reply` at end of message.
local function finish(conn, subject, body, reply, what)
  mt.header(conn, "Subject", subject)
  mt.bodystring(conn, body)
  assert(mt.eom(conn) == nil, "eom failed")
  assert(mt.getreply(conn) == reply, what)
end

-- 1. Negotiation: header edits, quarantine and macro list requested;
--    connect/helo skipped; no per-header replies.
local conn = connect()
assert(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS not requested")
assert(mt.test_action(conn, SMFIF_CHGHDRS), "CHGHDRS not requested")
assert(mt.test_action(conn, SMFIF_QUARANTINE), "QUARANTINE not requested")
assert(not mt.test_action(conn, SMFIF_CHGBODY), "CHGBODY must not be requested")
assert(mt.test_option(conn, SMFIP_NOCONNECT), "NOCONNECT not requested")
assert(mt.test_option(conn, SMFIP_NOHELO), "NOHELO not requested")

-- 2. A clean message: accepted, tagged clean, forged verdict removed.
start(conn, "MTQ0001", "alice@example.org", "bob@example.com")
mt.header(conn, "X-Emogate-Verdict", "clean")
mt.header(conn, "Content-Type", "text/plain")
finish(conn, "quarterly figures", "Hello Bob,\r\nthe figures are in the wiki.\r\n", SMFIR_ACCEPT,
       "clean message not accepted")
assert(mt.eom_check(conn, MT_HDRADD, "X-Emogate-Verdict", "clean"), "no X-Emogate-Verdict: clean")
assert(mt.eom_check(conn, MT_HDRDELETE, "X-Emogate-Verdict"), "forged X-Emogate-Verdict not removed")
assert(not mt.eom_check(conn, MT_QUARANTINE), "clean message quarantined")

-- 3. Same connection, next message: an executable attachment (malicious by
--    default) is rejected with 550 5.7.1.
start(conn, "MTQ0002", "mallory@example.net", "bob@example.com")
mt.header(conn, "MIME-Version", "1.0")
mt.header(conn, "Content-Type", "multipart/mixed; boundary=\"b1\"")
finish(conn, "invoice", "--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" ..
  "--b1\r\nContent-Type: application/octet-stream\r\n" ..
  "Content-Disposition: attachment; filename=\"invoice.exe\"\r\n" ..
  "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==\r\n--b1--\r\n",
  SMFIR_REPLYCODE, "malicious message not rejected with a reply code")
mt.disconnect(conn)

-- 4. Abort in the middle of a message, then a new message on the same
--    connection still works (buffers were reset).
conn = connect()
start(conn, "MTQ0003", "carol@example.org", "bob@example.com")
mt.bodystring(conn, "partial")
assert(mt.abort(conn) == nil, "abort failed")
start(conn, "MTQ0004", "carol@example.org", "bob@example.com")
finish(conn, "after abort", "complete\r\n", SMFIR_ACCEPT, "message after abort not accepted")
assert(mt.eom_check(conn, MT_HDRADD, "X-Emogate-Verdict", "clean"), "no verdict after abort")
mt.disconnect(conn)

mt.echo("miltertest: all checks passed")

# A SASL-authenticated submission service for the outbound tests: Cyrus
# SASL with a sasldb (Debian's sasl2-bin makes it, libsasl2-modules gives
# PLAIN and LOGIN), added as a second smtpd to a private Postfix instance
# from postfix_env.sh / mail_hosts.sh, on its own loopback port, with
# `-o milter_macro_daemon_name=submission` and only authenticated clients
# allowed to send. Source it after postfix_env.sh with T set. Trusts its
# caller; touches nothing outside $T.
#
#   sasl_require                 skip the test (77) without saslpasswd2 or
#                                Postfix's Cyrus SASL support
#   sasl_user DB USER@REALM PW   adds a user to the sasldb DB (made when absent)
#   sasl_submission DB PORT      the current instance (pf_use) gets the
#                                submission service on 127.0.0.1:PORT,
#                                authenticating against DB; reloads Postfix

sasl_require() {
    command -v saslpasswd2 >/dev/null || { echo "SKIP: saslpasswd2 not installed (sasl2-bin; scripts/deps.sh installs it)"; exit 77; }
    postconf -a 2>/dev/null | grep -qx cyrus || { echo "SKIP: this Postfix has no Cyrus SASL support"; exit 77; }
}

sasl_user() {
    local db=$1 user=$2 pw=$3
    printf '%s' "$pw" | saslpasswd2 -p -c -f "$db" -u "${user#*@}" "${user%@*}" || return 1
    chown postfix "$db"; chmod 600 "$db"
}

sasl_submission() {
    local db=$1 port=$2 dir
    dir=$PF_CONF/sasl
    mkdir -p "$dir"
    printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' "$db" >"$dir/smtpd.conf"
    chmod 755 "$dir"; chmod 644 "$dir/smtpd.conf"
    cat >>"$PF_CONF/main.cf" <<CF
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir
broken_sasl_auth_clients = no
smtpd_sasl_security_options = noanonymous
CF
    echo "127.0.0.1:$port inet n - n - - smtpd -o syslog_name=postfix${PF_NAME:+-$PF_NAME}/submission -o smtpd_sasl_auth_enable=yes -o milter_macro_daemon_name=submission -o smtpd_client_restrictions=permit_sasl_authenticated,reject -o smtpd_relay_restrictions=permit_sasl_authenticated,reject -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject" >>"$PF_CONF/master.cf"
    pf_reload && wait_port "$port"
}

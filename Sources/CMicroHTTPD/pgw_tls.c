#include "pgw_mhd.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

/* The connection's GnuTLS session, or NULL when it is not a TLS connection. */
static gnutls_session_t session_of(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    return info == NULL ? NULL : (gnutls_session_t)info->tls_session;
}

/* Client certificates are checked for the TLS client purpose when they name purposes,
 * as Go's crypto/tls does for exporter-toolkit. */
static gnutls_typed_vdata_st client_purpose[] = {
    { .type = GNUTLS_DT_KEY_PURPOSE_OID, .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, .size = 0 },
};

int pgw_tls_prepare(struct MHD_Connection *connection, int client_auth) {
    gnutls_session_t session = session_of(connection);
    if (session == NULL) return -1;
    switch (client_auth) {
    case PGW_CLIENT_AUTH_NONE:
        gnutls_certificate_server_set_request(session, GNUTLS_CERT_IGNORE);
        break;
    case PGW_CLIENT_AUTH_REQUEST:
        gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
        break;
    case PGW_CLIENT_AUTH_REQUIRE_ANY:
        gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
        break;
    case PGW_CLIENT_AUTH_VERIFY_IF_GIVEN:
        /* Verified after the handshake (pgw_tls_peer_status): GnuTLS's handshake-time
         * check would also refuse a client that sends none. */
        gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
        break;
    default:
        gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert2(session, client_purpose, 1, 0);
        break;
    }
    return 0;
}

int pgw_tls_peer_status(struct MHD_Connection *connection, int client_auth) {
    gnutls_session_t session = session_of(connection);
    if (session == NULL || client_auth == PGW_CLIENT_AUTH_NONE) return 0;
    unsigned int count = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &count);
    if (peers == NULL || count == 0) {
        return (client_auth == PGW_CLIENT_AUTH_REQUIRE_ANY || client_auth == PGW_CLIENT_AUTH_REQUIRE_VERIFY) ? 1 : 0;
    }
    if (client_auth != PGW_CLIENT_AUTH_VERIFY_IF_GIVEN && client_auth != PGW_CLIENT_AUTH_REQUIRE_VERIFY) return 0;
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers(session, client_purpose, 1, &status) != GNUTLS_E_SUCCESS || status != 0) return 2;
    return 0;
}

int pgw_tls_check_priorities(const char *priorities, char *err_out, size_t err_len) {
    gnutls_priority_t cache;
    const char *err_pos = NULL;
    if (err_len > 0) err_out[0] = '\0';
    if (gnutls_priority_init(&cache, priorities, &err_pos) != GNUTLS_E_SUCCESS) {
        if (err_pos != NULL && err_len > 0) {
            strncpy(err_out, err_pos, err_len - 1);
            err_out[err_len - 1] = '\0';
        }
        return -1;
    }
    gnutls_priority_deinit(cache);
    return 0;
}

int pgw_tls_check_key_pair(const char *cert, size_t cert_len, const char *key, size_t key_len) {
    gnutls_certificate_credentials_t creds;
    int rc = gnutls_certificate_allocate_credentials(&creds);
    if (rc != GNUTLS_E_SUCCESS) return rc;
    gnutls_datum_t c = { (unsigned char *)cert, (unsigned int)cert_len };
    gnutls_datum_t k = { (unsigned char *)key, (unsigned int)key_len };
    rc = gnutls_certificate_set_x509_key_mem(creds, &c, &k, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(creds);
    return rc < 0 ? rc : 0;
}

int pgw_tls_count_cas(const char *pem, size_t len) {
    gnutls_certificate_credentials_t creds;
    int rc = gnutls_certificate_allocate_credentials(&creds);
    if (rc != GNUTLS_E_SUCCESS) return rc;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)len };
    rc = gnutls_certificate_set_x509_trust_mem(creds, &d, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(creds);
    return rc;
}

const char *pgw_tls_error_text(int code) {
    return gnutls_strerror(code);
}

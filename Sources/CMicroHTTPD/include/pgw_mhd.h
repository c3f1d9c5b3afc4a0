#ifndef PGWARDEN_CMICROHTTPD_H
#define PGWARDEN_CMICROHTTPD_H
/*
 * The small C boundary to libmicrohttpd, GnuTLS and libxcrypt. Swift cannot call the
 * variadic MHD_start_daemon, so pgw_mhd_start wraps it; pgw_listen opens the listening
 * socket itself so that bind errors (address in use, permission) carry errno. The TLS
 * helpers reach GnuTLS through the session libmicrohttpd hands out; pgw_bcrypt_verify
 * checks a password against a bcrypt hash with crypt_r.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/* Opens, binds and listens on host:port. host NULL or "" means every address
 * (IPv6 dual stack, IPv4 if IPv6 is unavailable). Returns the socket, or -1 with
 * *err set to errno (or -EAI code negated minus 1000 when the host does not resolve). */
int pgw_listen(const char *host, uint16_t port, int backlog, int *err);

/* The port a bound socket listens on (useful with port 0). */
int pgw_socket_port(int fd);

/* How a daemon is started: the listening socket, its callbacks, its limits and, when
 * tls_cert is not NULL, its TLS material (PEM text, NUL-terminated). */
struct pgw_mhd_config {
    int listen_fd;
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
    MHD_NotifyConnectionCallback notify;
    void *notify_cls;
    unsigned int thread_pool_size;
    unsigned int connection_limit;
    unsigned int per_ip_connection_limit;
    size_t connection_memory_limit;
    unsigned int idle_timeout_seconds;
    const char *tls_cert;
    const char *tls_key;
    /* CA certificates that client certificates are verified against; NULL for none. */
    const char *tls_trust;
    /* A GnuTLS priority string (versions, ciphers); NULL for the library's default. */
    const char *tls_priorities;
};

/* Starts a daemon that polls with epoll from a fixed pool of threads and lets handlers
 * suspend connections. NULL when libmicrohttpd refuses (bad TLS material, no threads). */
struct MHD_Daemon *pgw_mhd_start(const struct pgw_mhd_config *config);

/* The connections a daemon holds now, or -1. */
int pgw_mhd_daemon_connections(struct MHD_Daemon *daemon);

/* The client's address as text ("127.0.0.1", "::1"), or "" when unknown. */
void pgw_mhd_client_address(struct MHD_Connection *connection, char *out, size_t out_len);

/* The connection's socket, or -1. */
int pgw_mhd_connection_fd(struct MHD_Connection *connection);

/* What a TLS server asks of client certificates (exporter-toolkit's client_auth_type). */
enum pgw_client_auth {
    PGW_CLIENT_AUTH_NONE = 0,            /* NoClientCert */
    PGW_CLIENT_AUTH_REQUEST = 1,         /* RequestClientCert: asked for, not checked */
    PGW_CLIENT_AUTH_REQUIRE_ANY = 2,     /* RequireAnyClientCert: required, not checked */
    PGW_CLIENT_AUTH_VERIFY_IF_GIVEN = 3, /* VerifyClientCertIfGiven */
    PGW_CLIENT_AUTH_REQUIRE_VERIFY = 4,  /* RequireAndVerifyClientCert */
};

/* Called when a TLS connection starts, before its handshake: asks for (or requires) a
 * client certificate and has GnuTLS verify it during the handshake, so a client without
 * an acceptable certificate never gets a session. Returns 0, or -1 without a TLS session. */
int pgw_tls_prepare(struct MHD_Connection *connection, int client_auth);

/* Checks the client's certificate again once the handshake is done: 0 when acceptable
 * under client_auth (or not TLS), 1 when a required certificate is missing, 2 when a
 * certificate is present but does not verify (unknown CA, expired, not yet valid, bad
 * signature). */
int pgw_tls_peer_status(struct MHD_Connection *connection, int client_auth);

/* Checks that a GnuTLS priority string parses; returns 0, or -1 with the offending part
 * copied to err_out. */
int pgw_tls_check_priorities(const char *priorities, char *err_out, size_t err_len);

/* Checks PEM certificate and key text as GnuTLS will read them: 0 when usable, otherwise
 * a negative GnuTLS error whose text pgw_tls_error_text gives. */
int pgw_tls_check_key_pair(const char *cert, size_t cert_len, const char *key, size_t key_len);

/* Counts the certificates in PEM CA text; negative GnuTLS error when unreadable. */
int pgw_tls_count_cas(const char *pem, size_t len);

/* The text of a GnuTLS error code. */
const char *pgw_tls_error_text(int code);

/* Whether password (password_len bytes, may hold NUL) matches a bcrypt hash ($2a$, $2b$,
 * $2y$). 1 yes, 0 no, -1 when the hash is not one crypt_r can check. */
int pgw_bcrypt_verify(const char *password, size_t password_len, const char *hash);

#endif

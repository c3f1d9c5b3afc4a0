#ifndef PGWARDEN_CMICROHTTPD_H
#define PGWARDEN_CMICROHTTPD_H
/*
 * The small C boundary to libmicrohttpd. Swift cannot call the variadic
 * MHD_start_daemon, so pgw_mhd_start wraps it; pgw_listen opens the listening
 * socket itself so that bind errors (address in use, permission) carry errno.
 */
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

/* Starts a thread-per-connection daemon on an already listening socket. */
struct MHD_Daemon *pgw_mhd_start(int listen_fd,
                                 MHD_AccessHandlerCallback handler, void *handler_cls,
                                 MHD_RequestCompletedCallback completed, void *completed_cls,
                                 unsigned int connection_limit,
                                 unsigned int connection_timeout_seconds);

/* The client's address as text ("127.0.0.1", "::1"), or "" when unknown. */
void pgw_mhd_client_address(struct MHD_Connection *connection, char *out, size_t out_len);

#endif

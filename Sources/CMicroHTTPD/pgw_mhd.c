#include "pgw_mhd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int open_bound(int family, const struct sockaddr *addr, socklen_t len, int backlog, int *err) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { *err = errno; return -1; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        int v6only = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (bind(fd, addr, len) != 0 || listen(fd, backlog) != 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

int pgw_listen(const char *host, uint16_t port, int backlog, int *err) {
    *err = 0;
    if (host == NULL || host[0] == '\0') {
        struct sockaddr_in6 a6;
        memset(&a6, 0, sizeof a6);
        a6.sin6_family = AF_INET6;
        a6.sin6_addr = in6addr_any;
        a6.sin6_port = htons(port);
        int fd = open_bound(AF_INET6, (struct sockaddr *)&a6, sizeof a6, backlog, err);
        if (fd >= 0 || (*err != EAFNOSUPPORT && *err != EADDRNOTAVAIL)) return fd;
        struct sockaddr_in a4;
        memset(&a4, 0, sizeof a4);
        a4.sin_family = AF_INET;
        a4.sin_addr.s_addr = htonl(INADDR_ANY);
        a4.sin_port = htons(port);
        return open_bound(AF_INET, (struct sockaddr *)&a4, sizeof a4, backlog, err);
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) { *err = -1000 - (rc < 0 ? -rc : rc); return -1; }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = open_bound(ai->ai_family, ai->ai_addr, ai->ai_addrlen, backlog, err);
        if (fd >= 0) break;
    }
    freeaddrinfo(res);
    return fd;
}

int pgw_socket_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

struct MHD_Daemon *pgw_mhd_start(const struct pgw_mhd_config *c) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (getsockname(c->listen_fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem options[16];
    int n = 0;
#define PGW_OPT(o, v, p) do { options[n].option = (o); options[n].value = (intptr_t)(v); options[n].ptr_value = (p); n++; } while (0)
    PGW_OPT(MHD_OPTION_LISTEN_SOCKET, c->listen_fd, NULL);
    PGW_OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)c->completed, c->completed_cls);
    PGW_OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)c->notify, c->notify_cls);
    PGW_OPT(MHD_OPTION_THREAD_POOL_SIZE, c->thread_pool_size, NULL);
    PGW_OPT(MHD_OPTION_CONNECTION_LIMIT, c->connection_limit, NULL);
    PGW_OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->per_ip_connection_limit, NULL);
    PGW_OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->connection_memory_limit, NULL);
    PGW_OPT(MHD_OPTION_CONNECTION_TIMEOUT, c->idle_timeout_seconds, NULL);
    if (c->tls_cert != NULL) {
        flags |= MHD_USE_TLS;
        PGW_OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)c->tls_cert);
        PGW_OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)c->tls_key);
        if (c->tls_trust != NULL) PGW_OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)c->tls_trust);
        if (c->tls_priorities != NULL) PGW_OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)c->tls_priorities);
    }
    PGW_OPT(MHD_OPTION_END, 0, NULL);
#undef PGW_OPT
    return MHD_start_daemon(flags, 0, NULL, NULL, c->handler, c->handler_cls,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

int pgw_mhd_daemon_connections(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? -1 : (int)info->num_connections;
}

int pgw_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : (int)info->connect_fd;
}

void pgw_mhd_client_address(struct MHD_Connection *connection, char *out, size_t out_len) {
    out[0] = '\0';
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)out_len);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)out_len);
    }
}

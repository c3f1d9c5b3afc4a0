/*
 * webhook_holder: opens N libpq sessions, leaves every one idle in transaction (BEGIN; SELECT 1),
 * prints "ready N" on stdout, then waits until SIGTERM/SIGINT or its time limit and exits (the
 * kernel closes whatever sockets are still open). Used by bench/webhook.sh.
 *
 *   webhook_holder CONNINFO N [MAX_SECONDS]
 *
 * CONNINFO is a complete libpq conninfo (host, port, dbname, user), e.g.
 * "host=/tmp/x/socket port=5432 dbname=postgres user=bench_app application_name=bench_webhook".
 */
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void run(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        fprintf(stderr, "webhook_holder: '%s': %s", sql, PQresultErrorMessage(r));
        exit(1);
    }
    PQclear(r);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: webhook_holder CONNINFO N [MAX_SECONDS]\n");
        return 2;
    }
    const char *info = argv[1];
    int n = atoi(argv[2]);
    int max_seconds = argc > 3 ? atoi(argv[3]) : 600;
    if (n < 1) { fprintf(stderr, "webhook_holder: N must be at least 1\n"); return 2; }

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* No SA_RESTART: a signal ends sleep() at once. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    PGconn **conns = calloc((size_t)n, sizeof *conns);
    for (int i = 0; i < n && !stop; i++) {
        conns[i] = PQconnectdb(info);
        if (PQstatus(conns[i]) != CONNECTION_OK) {
            fprintf(stderr, "webhook_holder: connect %d: %s", i + 1, PQerrorMessage(conns[i]));
            return 1;
        }
        run(conns[i], "BEGIN");
        run(conns[i], "SELECT 1");
        /* Progress on stderr, so that a holder that hangs shows where (bench/webhook.sh prints it). */
        if ((i + 1) % 10 == 0 || i + 1 == n) { fprintf(stderr, "webhook_holder: %d/%d in place\n", i + 1, n); fflush(stderr); }
    }
    if (stop) return 1;
    printf("ready %d\n", n);
    fflush(stdout);

    for (int t = 0; !stop && t < max_seconds; t++) sleep(1);
    /* No PQfinish: the terminated sessions are gone anyway; exit closes the rest. */
    return 0;
}

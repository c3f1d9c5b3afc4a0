/*
 * holder: opens N libpq sessions in one process and leaves them in a mix of states, then
 * waits until SIGTERM/SIGINT (or its time limit) and exits; the kernel closes the sockets.
 *
 *   holder CONNINFO N [MAX_SECONDS]
 *
 * CONNINFO is a libpq conninfo *without* dbname/user (e.g. "host=/tmp/x/socket port=5432");
 * sessions are spread over the databases postgres and benchapp and the roles bench_app1..4
 * (created by bench/run.sh). The mix, by share of N:
 *   60% idle                                   (connected, nothing sent)
 *   20% idle in transaction                    (BEGIN; SELECT 1)
 *   10% active                                 (SELECT pg_sleep(3600), result never read)
 *    5% idle in transaction (aborted)          (BEGIN; SELECT 1/0)
 *    5% lock: 1 in 10 of them holds ACCESS EXCLUSIVE on its table bench_lock_K in an open
 *       transaction (idle in transaction, blocking); the others wait on LOCK TABLE (active,
 *       wait_event_type Lock, blocked).
 * Prints "ready" on stdout when every session is in place.
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

static void die(const char *what, PGconn *c) {
    fprintf(stderr, "holder: %s: %s", what, c ? PQerrorMessage(c) : "\n");
    exit(1);
}

static PGconn *connect_as(const char *base, const char *db, const char *user) {
    char info[1024];
    snprintf(info, sizeof info, "%s dbname=%s user=%s application_name=bench_holder", base, db, user);
    PGconn *c = PQconnectdb(info);
    if (PQstatus(c) != CONNECTION_OK) die("connect", c);
    return c;
}

/* Runs a statement and checks its status (expect_error: it must fail). */
static void run(PGconn *c, const char *sql, int expect_error) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    int ok = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
    if (ok == expect_error) {
        fprintf(stderr, "holder: '%s': %s", sql, PQresultErrorMessage(r));
        exit(1);
    }
    PQclear(r);
}

/* Sends a statement whose result is never read (the session stays active). */
static void send_only(PGconn *c, const char *sql) {
    if (!PQsendQuery(c, sql)) die("send", c);
    PQflush(c);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: holder CONNINFO N [MAX_SECONDS]\n");
        return 2;
    }
    const char *base = argv[1];
    int n = atoi(argv[2]);
    int max_seconds = argc > 3 ? atoi(argv[3]) : 3600;
    if (n < 20) { fprintf(stderr, "holder: N must be at least 20\n"); return 2; }

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    int n_lock = n * 5 / 100, n_aborted = n * 5 / 100, n_active = n * 10 / 100, n_iit = n * 20 / 100;
    int n_idle = n - n_lock - n_aborted - n_active - n_iit;
    int n_holders = n_lock / 10 > 0 ? n_lock / 10 : 1;
    int n_waiters = n_lock - n_holders;

    static const char *dbs[] = {"postgres", "benchapp"};
    static const char *roles[] = {"bench_app1", "bench_app2", "bench_app3", "bench_app4"};
    PGconn **conns = calloc((size_t)n, sizeof *conns);
    int k = 0;

    /* Lock tables (one per holder), in the postgres database. */
    {
        PGconn *c = connect_as(base, "postgres", "postgres");
        char sql[256];
        for (int i = 0; i < n_holders; i++) {
            snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS bench_lock_%d (id int); GRANT ALL ON bench_lock_%d TO PUBLIC", i, i);
            run(c, sql, 0);
        }
        PQfinish(c);
    }

    for (int i = 0; i < n_idle; i++, k++)
        conns[k] = connect_as(base, dbs[k % 2], roles[k % 4]);
    for (int i = 0; i < n_iit; i++, k++) {
        conns[k] = connect_as(base, dbs[k % 2], roles[k % 4]);
        run(conns[k], "BEGIN", 0);
        run(conns[k], "SELECT 1", 0);
    }
    for (int i = 0; i < n_aborted; i++, k++) {
        conns[k] = connect_as(base, dbs[k % 2], roles[k % 4]);
        run(conns[k], "BEGIN", 0);
        run(conns[k], "SELECT 1/0", 1);
    }
    for (int i = 0; i < n_active; i++, k++) {
        conns[k] = connect_as(base, dbs[k % 2], roles[k % 4]);
        send_only(conns[k], "SELECT pg_sleep(3600)");
    }
    for (int i = 0; i < n_holders; i++, k++) {
        char sql[128];
        conns[k] = connect_as(base, "postgres", roles[k % 4]);
        run(conns[k], "BEGIN", 0);
        snprintf(sql, sizeof sql, "LOCK TABLE bench_lock_%d IN ACCESS EXCLUSIVE MODE", i);
        run(conns[k], sql, 0);
    }
    for (int i = 0; i < n_waiters; i++, k++) {
        char sql[128];
        conns[k] = connect_as(base, "postgres", roles[k % 4]);
        snprintf(sql, sizeof sql, "BEGIN; LOCK TABLE bench_lock_%d IN ACCESS SHARE MODE", i % n_holders);
        send_only(conns[k], sql);
    }
    printf("ready %d sessions: idle %d, idle in transaction %d, aborted %d, active %d, lock holders %d, lock waiters %d\n",
           k, n_idle, n_iit, n_aborted, n_active, n_holders, n_waiters);
    fflush(stdout);

    for (int t = 0; !stop && t < max_seconds; t++) sleep(1);
    return 0;
}

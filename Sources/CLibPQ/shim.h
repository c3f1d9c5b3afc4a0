#ifndef PGWARDEN_CLIBPQ_SHIM_H
#define PGWARDEN_CLIBPQ_SHIM_H
/* libpq-fe.h is found through pkg-config (libpq's include dir). */
#include <libpq-fe.h>
#include <poll.h>
#endif

#include "pgw_build.h"

#if __has_include("generated/pgw_build_info.h")
#include "generated/pgw_build_info.h"
#endif

#ifndef PGW_BUILD_REVISION
#define PGW_BUILD_REVISION "unknown"
#define PGW_BUILD_BRANCH "unknown"
#define PGW_BUILD_USER "unknown"
#define PGW_BUILD_DATE "unknown"
#define PGW_BUILD_SWIFT_VERSION "unknown"
#define PGW_BUILD_PLATFORM "unknown"
#endif

const char *pgw_build_revision(void) { return PGW_BUILD_REVISION; }
const char *pgw_build_branch(void) { return PGW_BUILD_BRANCH; }
const char *pgw_build_user(void) { return PGW_BUILD_USER; }
const char *pgw_build_date(void) { return PGW_BUILD_DATE; }
const char *pgw_build_swift_version(void) { return PGW_BUILD_SWIFT_VERSION; }
const char *pgw_build_platform(void) { return PGW_BUILD_PLATFORM; }

#ifndef PGWARDEN_CBUILDINFO_H
#define PGWARDEN_CBUILDINFO_H
/*
 * What scripts/stamp-build.sh recorded when pgwarden was built ("unknown" when it did not run:
 * a plain `swift build`, or a source tree without git). C, because SwiftPM rebuilds a C file
 * when a header it includes changes, and the generated header is optional (__has_include).
 */
const char *pgw_build_revision(void);
const char *pgw_build_branch(void);
const char *pgw_build_user(void);
const char *pgw_build_date(void);
const char *pgw_build_swift_version(void);
const char *pgw_build_platform(void);
#endif

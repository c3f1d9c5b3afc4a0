#ifndef PGWARDEN_CYAML_SHIM_H
#define PGWARDEN_CYAML_SHIM_H
#include <yaml.h>
#endif

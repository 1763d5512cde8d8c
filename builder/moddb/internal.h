/* SPDX-License-Identifier: MIT */
/* The context's fields: private to moddb/ (its unit tests include it too). */
#ifndef KINDLING_MODDB_INTERNAL_H
#define KINDLING_MODDB_INTERNAL_H

#include "moddb/moddb.h"

struct kd_ctx {
	struct kd_log log;
	char *root;    /* "" for / */
	char *kver;
	char *moddir;  /* absolute: ROOT/lib/modules/KVER or --moddir */
	char **conf_dirs;
	size_t n_conf_dirs;
	char *cmdline; /* kernel command line applied to config, or NULL */
	bool force_depgen;
	struct kd_moddb db;
	struct kd_config config;
	struct kd_olist insts; /* struct kd_inst *, by "NAME\\ALIAS" (resolve.c) */
};

#endif

/* SPDX-License-Identifier: MIT */
/* Shared by the builder's unit tests: a log sink that keeps every message. */
#ifndef KINDLING_BUILDER_TEST_H
#define KINDLING_BUILDER_TEST_H

#include "base/base.h"
#include "codec/codec.h"
#include "moddb/moddb.h"
#include "detect/detect.h"
#include "plan/plan.h"
#include "inspect/inspect.h"
#include "verify/verify.h"
#include "image/image.h"
#include "build/build.h"
#include "cmd/cmd.h"

/* kd_log_fn appending each message to the struct kd_str given as data. */
static inline void capture(void *data, int prio, const char *file, int line,
			   const char *fn, const char *msg)
{
	(void)prio, (void)file, (void)line, (void)fn;
	kd_str_addz(data, msg);
}

#endif

/* SPDX-License-Identifier: MIT */
/* Shared by the cmocka unit tests: cmocka's required includes in order. */
#ifndef KINDLING_UNIT_H
#define KINDLING_UNIT_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif

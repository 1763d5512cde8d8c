// SPDX-License-Identifier: MIT
/* kindling check: placeholder until the checks land (next commit). */
#include "builder.h"

int kd_cmd_check(int argc, char **argv)
{
	(void)argc, (void)argv;
	return 2;
}

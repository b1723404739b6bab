/* main.c - command line entry point. */
/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "app/cmd_thumb.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "thumb") == 0) return kl_cmd_thumb(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("kinglet %s\n", KL_VERSION);
		return 0;
	}
	return 0;
}

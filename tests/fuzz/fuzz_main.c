/* fuzz_main.c - replays fuzz inputs without libFuzzer: one TAP line per file. */
/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static void run_file(const char *path)
{
	static uint8_t buf[4 << 20];
	FILE *f = fopen(path, "rb");
	size_t len;

	if (!f) {
		printf("not ok %d - cannot open %s\n", ++n, path);
		return;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* A crash or sanitizer report aborts the process; reaching here is a pass. */
	LLVMFuzzerTestOneInput(buf, len);
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
}

static void run_path(const char *path)
{
	struct stat st;
	struct dirent **ents;
	int k;

	if (stat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	k = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < k; i++) {
		char sub[4096];
		if (ents[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			run_path(sub);
		}
		free(ents[i]);
	}
	if (k >= 0)
		free(ents);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("1..%d\n", n);
	return 0;
}

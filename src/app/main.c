/* main.c - command line: run, --check-config, --plan, and the subcommands. */
/* SPDX-License-Identifier: MIT */
#include "app/app.h"
#include "app/budget.h"
#include "app/cmd_sign.h"
#include "app/cmd_thumb.h"
#include "app/conf.h"
#include "base/log.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/kinglet/kinglet.conf"

static const char usage[] =
	"usage: kinglet [-c FILE]                 run with the config FILE (default " DEFAULT_CONFIG ")\n"
	"       kinglet -c FILE --check-config    validate FILE and exit\n"
	"       kinglet -c FILE --plan            print the memory plan and exit\n"
	"       kinglet thumb IN OUT --fit WxH [--fill WxH] [--quality Q] [--format jpg|png]\n"
	"                                         make one thumbnail with the server's pipeline\n"
	"       kinglet sign PATH [-c FILE]       print PATH signed with [thumbs] key/salt\n"
	"       kinglet --version | --help\n";

/* Large: a loaded config holds every listener and preset in fixed arrays. */
static struct kl_conf conf;

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	int check = 0, plan_only = 0;
	char err[KL_ERRLEN];

	if (argc > 1 && strcmp(argv[1], "thumb") == 0)
		return kl_cmd_thumb(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "sign") == 0)
		return kl_cmd_sign(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("kinglet %s\n", KL_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--check-config") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "--plan") == 0) {
			plan_only = 1;
		} else {
			fprintf(stderr, "kinglet: unknown argument: %s\n%s", argv[i], usage);
			return 2;
		}
	}

	if (kl_conf_load(&conf, path, err) < 0) {
		fprintf(stderr, "kinglet: %s\n", err);
		return 1;
	}
	if (check || plan_only) {
		static struct kl_plan plan;
		static char text[16384];

		if (kl_budget_plan(&conf, &plan, err) < 0) {
			fprintf(stderr, "kinglet: %s: %s\n", path, err);
			return 1;
		}
		if (plan_only) {
			kl_budget_format(&plan, text, sizeof(text));
			fputs(text, stdout);
		} else {
			printf("%s: ok\n", path);
		}
		return 0;
	}
	return kl_app_run(&conf);
}

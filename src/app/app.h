/* app.h - the running process: plan, pools, loop, listeners, shutdown. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_APP_H
#define KL_APP_H

#include "app/conf.h"

/*
 * Runs kinglet on a loaded config until SIGTERM/SIGINT and the grace
 * period are over. Returns the process exit status (0 after a clean stop).
 */
int kl_app_run(const struct kl_conf *c);

#endif

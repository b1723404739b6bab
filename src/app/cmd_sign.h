/* cmd_sign.h - `kinglet sign PATH [-c FILE]`: print an imgproxy path signed with the configured key. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_CMD_SIGN_H
#define KL_CMD_SIGN_H

/*
 * argv[0] is "sign". Prints "/<signature>PATH" (or "/insecurePATH" when
 * the config has no key) and returns 0; 2 on usage errors, 1 when the
 * config cannot be loaded or the path cannot be signed.
 */
int kl_cmd_sign(int argc, char **argv);

#endif

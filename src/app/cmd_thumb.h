/* cmd_thumb.h - the `kinglet thumb` command. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_CMD_THUMB_H
#define KL_CMD_THUMB_H

/*
 * kinglet thumb IN OUT --fit WxH [--fill WxH] [--gravity G] [--quality Q]
 *               [--format jpg|png] [--arena SIZE] [--max-mp N] [--rotate D]
 *
 * argv[0] is "thumb". Returns the process exit status: 0 ok, 1 I/O error,
 * 2 usage, 3 unsupported image type, 4 corrupt or truncated image, 5 over
 * a limit (resolution, arena, output size). One line on stderr on error.
 */
int kl_cmd_thumb(int argc, char **argv);

#endif

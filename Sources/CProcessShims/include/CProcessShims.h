#ifndef FASTEST_SHOP_CPROCESSSHIMS_H
#define FASTEST_SHOP_CPROCESSSHIMS_H

#include <spawn.h>

/// glibc's (2.34+) posix_spawn file actions that Swift's Glibc module does not show (they are
/// declared only with _GNU_SOURCE / __USE_MISC): close every descriptor from `low` up, and
/// change directory, both in the child before exec.
int fs_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int low);
int fs_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// Makes standard output line-buffered (Swift 6 refuses to touch the C global `stdout`).
void fs_line_buffer_standard_output(void);

#endif

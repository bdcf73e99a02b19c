#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include "CProcessShims.h"

int fs_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int low) {
    return posix_spawn_file_actions_addclosefrom_np(actions, low);
}

int fs_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

void fs_line_buffer_standard_output(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* cmd_devices.c — `rtgraph devices`: the host APIs and audio devices that
 * `rtgraph run --host-api/--device` can pick from. */
#include <stdio.h>
#include <string.h>

#include "rtg_audio_device.h"
#include "rtg_cli.h"

int rtg_cmd_devices(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: rtgraph devices\n\n"
               "Lists the PortAudio host APIs and devices (index, name, host API, channels,\n"
               "default rate and latency), the defaults marked. 'rtgraph run --device N' takes\n"
               "the index or part of the name; '--host-api NAME' the start of the API's name.\n");
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: rtgraph devices\n");
        return 2;
    }
    rtg_error err;
    if (rtg_audio_list_devices(stdout, &err))
        return rtg_cli_fail("%s", err.msg);
    return 0;
}

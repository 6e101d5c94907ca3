/* rugbycodex-runner: runs transcode jobs as GStreamer pipelines. */
#include <glib.h>
#include <gst/gst.h>

typedef enum {
  EXIT_OK = 0,
  EXIT_JOB_FAILED = 1,
  EXIT_USAGE = 2,
} RunnerExit;

int
main (int argc, char **argv)
{
  g_printerr ("usage: rugbycodex-runner transcode SRC DST | worker | pipeline\n");
  return EXIT_USAGE;
}

/* Shared initialisation of the rugbycodex elements, run once. */
#include "gstrugbycodexelements.h"

void
rugbycodex_element_init (GstPlugin * plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    /* Nothing shared yet: the elements' own debug categories are enough. */
    g_once_init_leave (&done, 1);
  }
}

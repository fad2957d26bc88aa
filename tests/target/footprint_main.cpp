// The footprint image of tests/target/size_report.sh: every object of imsdc's portable core
// linked whole (no section garbage collection), so the report counts all of the core once,
// with the C++ template code the modules share counted once as well. It runs (init, then
// returns 0) so the image is known to be complete.
#include "imsdc/port_baremetal.h"

int main() {
  imsdc::baremetal::init();
  return 0;
}

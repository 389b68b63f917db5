/* libjpeg-turbo's TurboJPEG API (Debian: libturbojpeg0-dev). Imported only by FaceRPCImage. */
#include <turbojpeg.h>

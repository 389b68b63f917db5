/* libjpeg-turbo's TurboJPEG API (Debian: libturbojpeg0-dev). Imported only by FaceRPCImage. */
#ifndef FACERPC_CTURBOJPEG_SHIM_H
#define FACERPC_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>

/* The TJ* enums import into Swift as distinct types; these keep call sites plain ints. */
static inline int facerpc_tj_pf_rgb(void) { return TJPF_RGB; }
static inline int facerpc_tj_pf_cmyk(void) { return TJPF_CMYK; }
static inline int facerpc_tj_cs_gray(void) { return TJCS_GRAY; }
static inline int facerpc_tj_cs_cmyk(void) { return TJCS_CMYK; }
static inline int facerpc_tj_cs_ycck(void) { return TJCS_YCCK; }
static inline int facerpc_tj_samp_420(void) { return TJSAMP_420; }
static inline int facerpc_tj_samp_444(void) { return TJSAMP_444; }
static inline int facerpc_tj_err_warning(void) { return TJERR_WARNING; }
#endif

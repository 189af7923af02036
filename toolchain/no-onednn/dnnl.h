/* On the include path of a build without oneDNN (make ONEDNN=0, the AArch64 cross build), ahead of
 * the system headers: an unguarded #include <dnnl.h> must fail here rather than silently compile
 * against the host's (x86-64) oneDNN headers, which the cross compiler would otherwise find. */
#error "this build has no oneDNN (ONEDNN=0): guard the include with #ifndef LB_NO_ONEDNN"

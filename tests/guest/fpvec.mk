# check-guest-fpvec: statically linked floating-point/string/vector programs
# (tests/guest/fpvec/*.c, gcc -O2 -msse4.2) must print under vx86's Linux
# guest exactly what they print natively (tests/guest/fpvec.sh).  Needs the
# guest (make guest; a missing guest or one that does not boot FAILs).
# SKIPs, naming the feature, only on a host without gcc static libraries or
# without SSE4.2/AES-NI/PCLMULQDQ.  FPVEC_APPEND adds kernel arguments.
FPVEC_APPEND ?=
FPVEC_TIMEOUT ?= 600
.PHONY: check-guest-fpvec
check-guest-fpvec: vx86
	@tests/guest/fpvec.sh --timeout $(FPVEC_TIMEOUT) --append "$(FPVEC_APPEND)"

CHECK_TARGETS += check-guest-fpvec

# The licence gate over the store: policy/ meets the store and keyring.
noinst_LIBRARIES += gate/libgate.a
gate_libgate_a_SOURCES = gate/gate.h gate/gate.c gate/conclude.c
gate_libgate_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS)
GATE_LIBS = gate/libgate.a

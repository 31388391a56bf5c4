# One quantized session of lab 04, run in its directory by ../Makefile
# (make -C DIR -f ../quantized.mk BITS=b [R2=...]): three clients with threshold 2 average
# 1000-float updates, weighted 10, 20 and 70. The session's quantization spec: clip 1.0, BITS
# bits, weights up to 100; setup picks the modulus (--modulus-bits auto).
CLIENTS      := 3
THRESHOLD    := 2
LENGTH       := 1000
BITS         ?= 16
MODULUS_BITS := auto
SETUP_FLAGS  := --clip 1.0 --bits $(BITS) --max-weight 100
INPUT_EXT    := vec
W1 := 10
W2 := 20
W3 := 70
include ../../session.mk

# Client I's float update (numpy), and its ring vector: (w, w q_1, ..., w q_L).
u%.npy: ../updates.py | labs-deps
	$(PYTHON) ../updates.py $* $(LENGTH) $@
x%.vec: u%.npy S/params.msg
	secagg-quantize encode --params S/params.msg --weight $(W$*) --input u$*.npy -o $@

# The server's aggregate, decoded: the weighted average of the clipped updates.
average.npy: sum.txt
	secagg-quantize decode --params S/params.msg --input S/aggregate.vec -o $@ --verbose

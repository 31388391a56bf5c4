# One session of lab 05, run in its directory by ../Makefile (make -C DIR -f ../graph.mk ...):
# twelve clients, vectors of 100 elements mod 2^32, client 7 drops out after round 1. The
# Makefile sets the graph: SETUP_FLAGS=--neighbours k for SecAgg+, nothing for full SecAgg.
CLIENTS   := 12
LENGTH    := 100
R2        := 1 2 3 4 5 6 8 9 10 11 12
include ../../session.mk

# Client I's input: I, 2I, ..., 100I.
x%.txt:
	seq $* $* $$((100 * $*)) > $@

# One session of lab 02, run in a scenario's directory by ../Makefile (make -C DIR -f ../scenario.mk):
# five clients, threshold 3, vectors of 4 elements; the scenario's R0 .. R4 say who sends in each
# round. Client I's input is 10^(I-1) times 1 2 3 4, so the digits of the sum say whose inputs
# are in it: 1111 is clients 1-4, 11111 all five.
CLIENTS   := 5
THRESHOLD := 3
LENGTH    := 4
include ../../session.mk

SCALE1 := 1
SCALE2 := 10
SCALE3 := 100
SCALE4 := 1000
SCALE5 := 10000
x%.txt:
	for j in 1 2 3 4; do echo $$((j * $(SCALE$*))); done > $@

# Round 4, collected whatever happens: the server's line and its exit status. The session
# may abort (exit 1), and then there is no sum.
outcome.txt: $(R4:%=unmask%.msg)
	rm -f sum.txt
	secagg-collect unmask --session S $^ --text -o sum.txt 2> $@; echo "exit status $$?" >> $@
	@cat $@

# One attack of lab 06, run in its directory by ../Makefile (make -C DIR -f ../attack.mk ...).
# The honest part of the session comes from ../../session.mk (secagg-collect is the server up to
# round 2); the lies come from the lying server `evil` (tests/evil.cpp: a teaching and test
# harness built into the build directory, never installed). Variables:
#   CLIENTS, THRESHOLD, SETUP_FLAGS, ACTIVE  the session (as session.mk)
#   TRIM      V:IDS: in round 1 the server trims client V's inbox to the bundles of V and IDS
#             (empty: no trimming)
#   U3_I      the survivor set the server shows client I in round 2 (one per client)
#   VICTIM    the client whose input the server wants
VICTIM ?= 1
TRIM   ?=
# Round 1, lied: the client whose inbox is trimmed masks with the inbox evil wrote, everyone
# else with their own (session.mk's masked rule reads these two; they come before it).
ifneq ($(TRIM),)
MASK_DEPS := S/evil/trimmed
TRIMMED := $(firstword $(subst :, ,$(TRIM)))
INBOX_OF = $(if $(filter $(TRIMMED),$*),S/evil/inbox-$*.msg,S/inbox-$*.msg)
endif
include ../../session.mk

ifneq ($(TRIM),)
S/evil/trimmed: S/u2.msg
	$(SECAGG_EVIL) inboxes S --trim $(TRIM) $(R1:%=shares%.msg)
	touch $@
endif

# Round 2, lied: each client is shown its own survivor set.
S/evil/survivors-%.msg: S/survivors.msg
	$(SECAGG_EVIL) survivors S --for $* --ids $(U3_$*)

ifneq ($(ACTIVE),yes)
# Round 4: each client answers the survivor set it was shown.
answer%.msg: S/evil/survivors-%.msg
	secagg-unmask --state c$* --survivors S/evil/survivors-$*.msg -o $@
ANSWERS = $(R2:%=answer%.msg)
else
# Round 3: each client signs the survivor set it was shown (u3sigI.msg); then the server makes, for each
# client, the best consistency message it can: every signature over that client's set.
u3sig%.msg: S/evil/survivors-%.msg
	secagg-unmask sign --state c$* --survivors S/evil/survivors-$*.msg -o $@
cons%.msg: $(R2:%=u3sig%.msg)
	$(SECAGG_EVIL) consistency S --for $* -o $@ $^
# Round 4: each client answers only against t signatures over the set it signed. Its refusal
# (exit 1) is the outcome here, so the rule records it instead of failing; an answer it does
# send is kept as answerI.msg.
answer%.txt: cons%.msg
	secagg-unmask --state c$* --survivors S/evil/survivors-$*.msg --consistency cons$*.msg \
	  -o answer$*.msg 2> $@; echo "exit status $$?" >> $@
ANSWERS = $(R2:%=answer%.txt)
endif

# What the answers reveal, and the victim's input if the server can rebuild it. evil exits 1
# when it cannot (or, for revealed, when the answers reveal both shares of a client); the
# outcome is recorded, not a failure.
revealed.txt: $(ANSWERS)
	$(SECAGG_EVIL) revealed S $$(ls answer*.msg 2>/dev/null) > $@ 2>&1; echo "exit status $$?" >> $@
recovered.txt: revealed.txt
	$(SECAGG_EVIL) recover S --victim $(VICTIM) -o $@ $$(ls answer*.msg 2>/dev/null) 2> recover.err || \
	  { cat recover.err; echo "(nothing recovered)" > $@; }
	@echo "recovered.txt:"; cat $@

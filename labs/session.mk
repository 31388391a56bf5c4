# labs/session.mk: one secagg session as make rules, in the current directory.
#
# Every target is a protocol message, and every rule is one protocol step: the server's steps
# make the files in S/, each client's steps make its messages. A client's state file cI is not a
# target: each client step rewrites it in place, so make could never tell whether it is up to
# date. The message the step writes stands for the step.
#
#   S/params.msg      setup (a new session: S and the old client states are removed first)
#   advI.msg          round 0: client I makes its keys (and its state cI) and advertises them
#   S/roster.msg      round 0: the server collects the adverts of $(R0) (SecAgg+: also S/roster-I.msg)
#   sharesI.msg       round 1: client I Shamir-shares its secrets among the roster
#   S/u2.msg          round 1: the server sorts the shares of $(R1) into S/inbox-I.msg
#   maskedI.msg       round 2: client I masks its input xI.$(INPUT_EXT) with its inbox
#   S/survivors.msg   round 2: the server collects the masked inputs of $(R2)
#   sigI.msg          round 3 (active sessions only): client I signs the survivor set
#   S/consistency.msg round 3: the server collects the signatures of $(R3)
#   unmaskI.msg       round 4: client I reveals its shares for the survivor set
#   sum.txt           round 4: the server collects the answers of $(R4), removes the masks and
#                     writes the aggregate (also S/aggregate.vec)
#
# A lab sets the session's shape before including this file, and writes a rule for the inputs
# (xI.txt, or xI.$(INPUT_EXT)):
#   CLIENTS, THRESHOLD (empty: setup's default), LENGTH, MODULUS_BITS (default 32),
#   SETUP_FLAGS (anything else for setup, e.g. --neighbours 4), KEYGEN_FLAGS (anything else
#     for every client's keygen, e.g. --insecure-low-threshold),
#   R0 R1 R2 R3 R4: who sends in each round (default: everyone who sent in the round before;
#     a client left out has dropped out), ACTIVE=yes for an active session (identities
#     certified by a CA made here, and round 3).
# A client that dropped out has no later messages: `make maskedI.msg` for it still runs the step
# (a dropped-out client could have sent late), but the server's rule does not take it.
include $(dir $(lastword $(MAKEFILE_LIST)))../Makefile.inc

CLIENTS      ?= 5
THRESHOLD    ?= 3
LENGTH       ?= 4
MODULUS_BITS ?= 32
SETUP_FLAGS  ?=
KEYGEN_FLAGS ?=
INPUT_EXT    ?= txt
# The inbox client $* masks with, and anything more its masked input depends on (lab 06's lying
# server hands out inboxes of its own).
INBOX_OF     ?= S/inbox-$*.msg
MASK_DEPS    ?=
R0 ?= $(shell seq 1 $(CLIENTS))
R1 ?= $(R0)
R2 ?= $(R1)
R3 ?= $(R2)
ifeq ($(ACTIVE),yes)
R4 ?= $(R3)
else
R4 ?= $(R2)
endif

LAB_TOOLS := | $(SECAGG_TOOL_FILES)
# The rules below leave the lab's default goal as it was (its first target after this file).
_session_goal := $(.DEFAULT_GOAL)

ifeq ($(ACTIVE),yes)
ACTIVE_SETUP = --threat-model active --ca ca.pub
ACTIVE_KEYGEN = --identity id$*.key --cert id$*.cert
ACTIVE_CERT = id%.cert
ACTIVE_UNMASK = --consistency S/consistency.msg
UNMASK_REQUEST = S/consistency.msg
# The certificate authority (not the server) and one certified identity per client.
ca.pub: $(LAB_TOOLS)
	@rm -f ca.key ca.pub
	secagg-keygen identity -o ca.key
id%.cert: ca.pub
	@rm -f id$*.key id$*.pub
	secagg-keygen identity -o id$*.key
	secagg-keygen certify --ca ca.key --id $* --pub id$*.pub -o $@
S/params.msg: ca.pub
else
UNMASK_REQUEST = S/survivors.msg
endif

S/params.msg: $(LAB_TOOLS)
	@rm -rf S $(foreach i,$(shell seq 1 $(CLIENTS)),c$(i))
	secagg-collect setup --session S --clients $(CLIENTS) $(if $(THRESHOLD),--threshold $(THRESHOLD)) \
	  --modulus-bits $(MODULUS_BITS) --length $(LENGTH) $(SETUP_FLAGS) $(ACTIVE_SETUP)

# Round 0. keygen refuses to overwrite a state file; a new advert means new keys, so the old
# state goes (quietly, as do the old session and identities above: housekeeping, not protocol).
adv%.msg: S/params.msg $(ACTIVE_CERT)
	@rm -f c$*
	secagg-keygen --params S/params.msg --id $* --state c$* -o $@ $(strip $(KEYGEN_FLAGS) $(ACTIVE_KEYGEN))
S/roster.msg: $(R0:%=adv%.msg)
	secagg-collect keys --session S $^

# Round 1. In SecAgg+ each client reads only its own window of the roster, S/roster-I.msg.
shares%.msg: S/roster.msg
	secagg-share --state c$* --roster $(if $(wildcard S/roster-$*.msg),S/roster-$*.msg,S/roster.msg) -o $@
S/u2.msg: $(R1:%=shares%.msg)
	secagg-collect shares --session S $^

# Round 2.
# (S/u2.msg stands for the inboxes, which the same step writes.)
masked%.msg: S/u2.msg x%.$(INPUT_EXT) $(MASK_DEPS)
	secagg-mask --state c$* --inbox $(INBOX_OF) --input x$*.$(INPUT_EXT) -o $@
S/survivors.msg: $(R2:%=masked%.msg)
	secagg-collect masked --session S $^

# Round 3 (active sessions).
sig%.msg: S/survivors.msg
	secagg-unmask sign --state c$* --survivors S/survivors.msg -o $@
S/consistency.msg: $(R3:%=sig%.msg)
	secagg-collect consistency --session S $^

# Round 4.
unmask%.msg: $(UNMASK_REQUEST)
	secagg-unmask --state c$* --survivors S/survivors.msg -o $@ $(ACTIVE_UNMASK)
sum.txt: $(R4:%=unmask%.msg)
	secagg-collect unmask --session S $^ --text -o $@

.DEFAULT_GOAL := $(_session_goal)

# The inputs of the clients whose masked input is in the aggregate, for a lab's check.
SUM_INPUTS = $(R2:%=x%.$(INPUT_EXT))

# Everything a session leaves in the current directory.
SESSION_FILES = S c[0-9]* adv*.msg shares*.msg masked*.msg sig*.msg unmask*.msg sum.txt x*.$(INPUT_EXT) \
  ca.key ca.pub id*.key id*.pub id*.cert

# bt.mk — make rules for a bt job: format, split, submit, wait, fetch,
# retry, join.  GNU make 4.  Include it from your Makefile, after setting
# the variables below:
#
#     RECORDS = tickets.jsonl
#     MODEL   = claude-haiku-4-5
#     ID      = .id
#     PROMPT  = "Classify this support ticket: \(.text)"
#     include bt.mk
#     all: $(WORK)/joined.jsonl
#
# Variables (set them before the include; all but RECORDS are optional):
#
#   RECORDS       the records: one or more JSON Lines files (text files with
#                 -R in FORMAT_FLAGS).  Required.
#   MODEL         bt-format -m (default: $BT_MODEL in the environment)
#   ID            bt-format --id and bt-join --id: a jq expression giving
#                 each record's id.  Empty: records are numbered.
#   PROMPT        bt-format -p: a jq expression on the record giving the
#                 prompt.  Written as is, no shell quoting; a jq $variable
#                 is written $$variable, as everywhere in make.
#   FORMAT_FLAGS  more bt-format options, as shell words (-s '...',
#                 --max-tokens 64, --arg k v, -R, ...).  With -R the
#                 records are text lines, for bt-join too.
#   JOIN_FLAGS    more bt-join options (--as label, --strict, --arg ...).
#   SPLIT_FLAGS   bt-split options (-n 10000, -b 50M).
#   SUBMIT_FLAGS  bt-submit options (--max-cost 20, -v).
#   WAIT_FLAGS    bt-wait options (--interval 5m, --timeout 20h, --progress).
#   RETRY_FLAGS   bt-retry options (--all-errors, --set EXPR).
#   API_FLAGS     options for every program that calls the API
#                 (--api-key-file FILE).
#   WORK          the job's directory (default bt-work).
#   ROUNDS        at most this many retry rounds after the first (default 2).
#   FORCE         FORCE=1 lets bt-clean remove a job whose batches run on.
#
# Files, each a make target, written to FILE.tmp and renamed into place
# only when its stage succeeded — so `make` after an interruption (or a
# failure) goes on where it stopped and never redoes a finished stage:
#
#   $(WORK)/format.args             the bt-format command line, and
#   $(WORK)/join.args               the bt-join one; each rewritten only when
#                                   it changes (a new PROMPT, MODEL, ...)
#   $(WORK)/requests.jsonl          bt-format RECORDS
#   $(WORK)/round.NN/requests.jsonl round NN > 01: all earlier rounds'
#                                   results | bt-retry requests.jsonl
#   $(WORK)/round.NN/chunks.txt     bt-split (chunk files in round.NN/chunks/)
#   $(WORK)/round.NN/batches.jsonl  bt-submit, journaled in $(WORK)/state (tag rNN)
#   $(WORK)/round.NN/ended.jsonl    bt-wait
#   $(WORK)/round.NN/results.jsonl  bt-fetch
#   $(WORK)/results.jsonl           every round's results, in round order
#   $(WORK)/joined.jsonl            bt-join: one line per record, in order
#
# A new PROMPT, MODEL, ID, FORMAT_FLAGS or RECORDS makes new requests, and
# so new batches (paid for: it is another job); new JOIN_FLAGS only join
# again; the other *_FLAGS apply to the stages still to run.
#
# A round with no requests (nothing left to retry) calls no program that
# talks to the API and leaves empty files.  bt-submit's journal (one for
# the job, in $(WORK)/state, each round's chunks under the tag rNN) makes
# sure a chunk is never paid for twice, even when a stage runs again after
# a kill, and lets an unanswered create be settled against all the job's
# batches.
#
# From cron, a run that waits at most a while and one run at a time; each
# goes on where the last stopped (a bt-wait that times out fails its target,
# nothing else):
#
#     */15 * * * *  cd JOBDIR && flock -n .bt.lock make -s WAIT_FLAGS='--timeout 10m'
#
# Phony targets:
#
#   bt-all      $(WORK)/joined.jsonl
#   bt-status   poll the job's batches once (bt-wait --once), print those
#               that have ended; succeed when all have, else fail.
#   bt-cancel   cancel the job's batches that have not ended.  A later
#               `make` sends the canceled requests again in the next round.
#   bt-clean    remove $(WORK); refused while a batch of the job has not
#               ended (or cannot be checked) unless FORCE=1.

# Every recipe, yours too, runs in bash with -o pipefail -e: a failing
# command anywhere in a pipe fails its target.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:

WORK   ?= bt-work
ROUNDS ?= 2

bt_saved_goal := $(.DEFAULT_GOAL)

# $(call bt_q,TEXT): TEXT as one shell word
bt_q = '$(subst ','\'',$(1))'

bt_rounds := $(shell case '$(ROUNDS)' in (''|*[!0-9]*|0?*) ;; (*) [ $(ROUNDS) -le 100 ] && seq -f %02g 1 $$(($(ROUNDS) + 1));; esac)
$(if $(bt_rounds),,$(error bt.mk: ROUNDS must be a whole number from 0 to 100, not '$(ROUNDS)'))

bt_format_cmd = bt-format $(if $(MODEL),-m $(call bt_q,$(MODEL))) \
	$(if $(ID),--id $(call bt_q,$(ID))) $(if $(PROMPT),-p $(call bt_q,$(PROMPT))) \
	$(FORMAT_FLAGS) -- $(RECORDS)
bt_join_cmd = bt-join $(if $(ID),--id $(call bt_q,$(ID))) \
	$(if $(filter -R --raw-input,$(FORMAT_FLAGS)),-R) $(JOIN_FLAGS) -- $(RECORDS)

# Announce a stage unless make -s.
bt_say = $(if $(findstring s,$(firstword -$(MAKEFLAGS))),:,echo) 'bt.mk: $@'
# Start of every stage's recipe: the directory, and FILE.tmp removed
# whatever way the stage fails.
bt_begin = @$(bt_say); mkdir -p $(@D); \
	trap 'rm -f $@.tmp' ERR; trap 'rm -f $@.tmp; exit 130' INT TERM HUP;
bt_end = mv -f $@.tmp $@

# FILE.args holds the command line that makes FILE, rewritten only when it
# changed: a new prompt or model makes new requests, new JOIN_FLAGS a new
# join, and the same ones nothing.
# $(call bt_args_changed,ARGS-FILE,COMMAND): non-empty when it changed
bt_args_changed = $(shell printf '%s\n' $(call bt_q,$(strip $(2))) | cmp -s - $(1) || echo x)
# $(call bt_args_write,COMMAND): the recipe
bt_args_write = @mkdir -p $(@D); printf '%s\n' $(call bt_q,$(strip $(1))) >$@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(WORK)/format.args: $(if $(call bt_args_changed,$(WORK)/format.args,$(bt_format_cmd)),bt-FORCE)
	$(call bt_args_write,$(bt_format_cmd))
$(WORK)/join.args: $(if $(call bt_args_changed,$(WORK)/join.args,$(bt_join_cmd)),bt-FORCE)
	$(call bt_args_write,$(bt_join_cmd))

$(WORK)/requests.jsonl: $(RECORDS) $(WORK)/format.args
	$(if $(strip $(RECORDS)),,$(error bt.mk: set RECORDS to the records file(s)))
	$(bt_begin) $(bt_format_cmd) >$@.tmp; $(bt_end)

# The stages of one round; the directory of $@ is the round's.
bt_split = $(bt_begin) rm -rf $(@D)/chunks; \
	if [ -s $< ]; then bt-split $(SPLIT_FLAGS) -d $(@D)/chunks <$< >$@.tmp; \
	else : >$@.tmp; fi; $(bt_end)
bt_submit = $(bt_begin) \
	if [ -s $< ]; then BT_STATE_DIR=$(WORK)/state bt-submit --tag r$(notdir $(subst round.,,$(@D))) $(API_FLAGS) $(SUBMIT_FLAGS) <$< >$@.tmp; \
	else : >$@.tmp; fi; $(bt_end)
bt_wait = $(bt_begin) \
	if [ -s $< ]; then bt-wait $(API_FLAGS) $(WAIT_FLAGS) <$< >$@.tmp; \
	else : >$@.tmp; fi; $(bt_end)
bt_fetch = $(bt_begin) \
	if [ -s $< ]; then BT_STATE_DIR=$(WORK)/state bt-fetch $(API_FLAGS) <$< >$@.tmp; \
	else : >$@.tmp; fi; $(bt_end)
# Round NN > 01: what all earlier rounds left to retry ($^ is
# requests.jsonl, then their results).
bt_retry = $(bt_begin) \
	cat -- $(wordlist 2,$(words $^),$^) | bt-retry $(RETRY_FLAGS) $< >$@.tmp; $(bt_end)

# $(call bt_round,NN,REQUESTS)
define bt_round
$(WORK)/round.$(1)/chunks.txt: $(2)
	$$(bt_split)
$(WORK)/round.$(1)/batches.jsonl: $(WORK)/round.$(1)/chunks.txt
	$$(bt_submit)
$(WORK)/round.$(1)/ended.jsonl: $(WORK)/round.$(1)/batches.jsonl
	$$(bt_wait)
$(WORK)/round.$(1)/results.jsonl: $(WORK)/round.$(1)/ended.jsonl
	$$(bt_fetch)
endef

# $(call bt_retry_round,NN,EARLIER-NN...)
define bt_retry_round
$(WORK)/round.$(1)/requests.jsonl: $(WORK)/requests.jsonl $(foreach r,$(2),$(WORK)/round.$(r)/results.jsonl)
	$$(bt_retry)
endef

bt_prev :=
$(foreach n,$(bt_rounds),\
  $(if $(bt_prev),\
    $(eval $(call bt_retry_round,$(n),$(bt_prev)))\
    $(eval $(call bt_round,$(n),$(WORK)/round.$(n)/requests.jsonl)),\
    $(eval $(call bt_round,$(n),$(WORK)/requests.jsonl)))\
  $(eval bt_prev += $(n)))

bt_all_results = $(foreach r,$(bt_rounds),$(WORK)/round.$(r)/results.jsonl)

$(WORK)/results.jsonl: $(bt_all_results)
	$(bt_begin) cat -- $^ >$@.tmp; $(bt_end)

$(WORK)/joined.jsonl: $(WORK)/results.jsonl $(RECORDS) $(WORK)/join.args
	$(bt_begin) $(bt_join_cmd) <$< >$@.tmp; $(bt_end)

# The batches of every round, from the journals (the truth, even for a
# bt-submit that was killed before its output was renamed into place).
bt_journal_ids = shopt -s nullglob; \
	set -- $(WORK)/state/journal/*.json; \
	ids=$$(cat /dev/null "$$@" | jq -r 'select(.state == "created") | .batch.id'); \
	doubt=$$(cat /dev/null "$$@" | jq -r 'select(.state == "sending") | .chunk');

.PHONY: bt-all bt-status bt-cancel bt-clean bt-FORCE
bt-FORCE:

bt-all: $(WORK)/joined.jsonl

bt-status:
	@$(bt_journal_ids) \
	if [ -n "$$doubt" ]; then \
	  echo "bt.mk: chunks sent with no answer yet (make settles them):" $$doubt >&2; fi; \
	if [ -z "$$ids" ]; then echo "bt.mk: no batch submitted in $(WORK)"; exit 0; fi; \
	n=$$(printf '%s\n' $$ids | wc -l); st=0; \
	ended=$$(printf '%s\n' $$ids | bt-wait --once $(API_FLAGS) | \
	  jq -r '"\(.id) \(.processing_status) \(.request_counts | to_entries | map("\(.key)=\(.value)") | join(" "))"') || st=$$?; \
	[ -z "$$ended" ] || printf '%s\n' "$$ended"; \
	e=$$(printf '%s' "$$ended" | grep -c . || :); \
	echo "bt.mk: $$e of $$n batches ended"; \
	[ $$st = 0 ] || { echo "bt.mk: not all batches have ended$$([ $$st = 3 ] || echo ", or some could not be checked") (bt-wait status $$st)" >&2; exit $$st; }

bt-cancel:
	@$(bt_journal_ids) \
	[ -n "$$ids" ] || { echo "bt.mk: no batch submitted in $(WORK)"; exit 0; }; st=0; \
	ended=$$(printf '%s\n' $$ids | bt-wait --once $(API_FLAGS) | jq -r .id) || st=$$?; \
	[ $$st = 0 ] || [ $$st = 3 ] || { echo "bt.mk: cannot check the batches (bt-wait status $$st)" >&2; exit $$st; }; \
	running=$$(printf '%s\n' $$ids | grep -vxF -f <(printf '%s\n' $$ended) || :); \
	[ -n "$$running" ] || { echo "bt.mk: every batch has ended; nothing to cancel"; exit 0; }; \
	printf '%s\n' $$running | bt-cancel $(API_FLAGS) | jq -r '"bt.mk: \(.id) \(.processing_status)"'

bt-clean:
	@if [ -d $(WORK) ] && [ "$(FORCE)" != 1 ]; then \
	  $(bt_journal_ids) \
	  if [ -n "$$doubt" ]; then \
	    echo "bt.mk: $(WORK): a batch may exist for chunks sent with no answer: $$doubt" >&2; \
	    echo "bt.mk: run make to settle them, or make bt-clean FORCE=1" >&2; exit 1; fi; \
	  if [ -n "$$ids" ]; then st=0; \
	    printf '%s\n' $$ids | bt-wait --once -v $(API_FLAGS) >/dev/null || st=$$?; \
	    if [ $$st != 0 ]; then \
	      echo "bt.mk: $(WORK): batches have not ended$$([ $$st = 3 ] || echo ' or cannot be checked');" \
	        "make bt-cancel stops them; make bt-clean FORCE=1 removes $(WORK) anyway" >&2; exit 1; fi; \
	  fi; \
	fi; \
	rm -rf $(WORK)

.DEFAULT_GOAL := $(bt_saved_goal)

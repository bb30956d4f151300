#!/usr/bin/env bash
# The soak test in its short form (see tests/soak/soak.sh): 15 s, 2,000
# tasks, 4 processes, ttl = 1, 10% faults, mutations while reading; a read
# that mixes two versions of an object fails it.
exec bash "$(dirname "$0")/../soak/soak.sh" --seconds 15 --objects 2000 --procs 4
